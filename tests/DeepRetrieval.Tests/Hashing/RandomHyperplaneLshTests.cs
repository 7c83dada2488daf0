using DeepRetrieval.Distances;
using DeepRetrieval.Hashing;

namespace DeepRetrieval.Tests.Hashing;

public class RandomHyperplaneLshTests
{
    // Two unit vectors at exactly angle θ, in a random plane of the space.
    private static (float[] X, float[] Y) PairAtAngle(int d, double theta, int seed)
    {
        float[] a = TestData.Gaussian(1, d, seed), b = TestData.Gaussian(1, d, seed + 100);
        double na = Math.Sqrt(a.Sum(v => (double)v * v));
        var u = a.Select(v => v / na).ToArray();
        double dot = b.Zip(u, (p, q) => p * q).Sum();
        var w = b.Select((v, i) => v - dot * u[i]).ToArray();
        double nw = Math.Sqrt(w.Sum(v => v * v));
        var x = u.Select(v => (float)v).ToArray();
        var y = u.Select((v, i) => (float)(Math.Cos(theta) * v + Math.Sin(theta) * w[i] / nw)).ToArray();
        return (x, y);
    }

    [Theory]
    [InlineData(Math.PI / 6)]
    [InlineData(Math.PI / 3)]
    [InlineData(Math.PI / 2)]
    [InlineData(2 * Math.PI / 3)]
    [InlineData(5 * Math.PI / 6)]
    public void BitsDiffer_WithProbabilityThetaOverPi(double theta)
    {
        // With 4096 independent hyperplanes the disagreement rate has standard deviation at most 0.0078 around θ/π;
        // 0.035 is 4.5 of them.
        const int d = 24, bits = 4096;
        var lsh = new RandomHyperplaneLsh(d, bits, seed: 9);
        var (x, y) = PairAtAngle(d, theta, 31);
        var codes = new byte[2 * lsh.CodeSize];
        lsh.Encode([.. x, .. y], codes);
        double differing = Distance.Hamming(codes.AsSpan(0, lsh.CodeSize), codes.AsSpan(lsh.CodeSize)) / (double)bits;
        differing.Should().BeApproximately(theta / Math.PI, 0.035);
        (1 - differing).Should().BeApproximately(1 - theta / Math.PI, 0.035, "the collision probability of one bit is 1 − θ/π");
    }

    [Fact]
    public void Encode_SetsBitI_WhenTheProjectionOnDirectionIExceedsItsThreshold()
    {
        const int d = 5, bits = 16;
        var lsh = new RandomHyperplaneLsh(d, bits, seed: 3);
        float[] x = [0.3f, -1.2f, 2f, 0.7f, -0.1f];
        var code = new byte[2];
        lsh.Encode(x, code);
        for (int i = 0; i < bits; i++)
        {
            double projection = 0;
            for (int j = 0; j < d; j++) projection += lsh.Directions[i * d + j] * x[j];
            bool set = (code[i / 8] >> (i % 8) & 1) == 1;
            set.Should().Be(projection > 0, $"bit {i} follows the sign of projection {projection}");
        }
    }

    [Fact]
    public void SameSeed_GivesSameDirections_AndScaleDoesNotChangeCodes()
    {
        var a = new RandomHyperplaneLsh(8, 64, seed: 5);
        var b = new RandomHyperplaneLsh(8, 64, seed: 5);
        a.Directions.ToArray().Should().Equal(b.Directions.ToArray());
        new RandomHyperplaneLsh(8, 64, seed: 6).Directions.ToArray().Should().NotEqual(a.Directions.ToArray());
        float[] x = TestData.Gaussian(1, 8, 1);
        var c1 = new byte[8];
        var c2 = new byte[8];
        a.Encode(x, c1);
        a.Encode(x.Select(v => v * 7.5f).ToArray(), c2);
        c2.Should().Equal(c1);
    }

    [Fact]
    public void TrainThresholds_SetsMedians_SoEachBitSplitsTheTrainingDataInHalf()
    {
        const int d = 6, bits = 32, rows = 101;
        // Data far from the origin: without thresholds most bits would be constant.
        float[] data = TestData.Gaussian(rows, d, 12).Select(v => v + 10f).ToArray();
        var lsh = new RandomHyperplaneLsh(d, bits, seed: 2);
        lsh.HasTrainedThresholds.Should().BeFalse();
        lsh.TrainThresholds(data);
        lsh.HasTrainedThresholds.Should().BeTrue();
        var codes = new byte[rows * lsh.CodeSize];
        lsh.Encode(data, codes);
        for (int bit = 0; bit < bits; bit++)
        {
            int ones = 0;
            for (int r = 0; r < rows; r++) ones += codes[r * lsh.CodeSize + bit / 8] >> (bit % 8) & 1;
            ones.Should().Be(50, "the median row sits on the threshold and is not above it");
        }
    }

    [Fact]
    public void BadInputs_AreRejected()
    {
        FluentActions.Invoking(() => new RandomHyperplaneLsh(4, 12)).Should().Throw<ArgumentException>().WithMessage("*multiple of 8*12*");
        FluentActions.Invoking(() => new RandomHyperplaneLsh(0, 8)).Should().Throw<ArgumentOutOfRangeException>();
        var lsh = new RandomHyperplaneLsh(4, 8);
        FluentActions.Invoking(() => lsh.Encode([1f, 2f, 3f], new byte[1])).Should().Throw<ArgumentException>().WithMessage("*dimension 4*");
        FluentActions.Invoking(() => lsh.Encode([1f, 2f, 3f, 4f], new byte[2])).Should().Throw<ArgumentException>().WithMessage("*1 code bytes*");
        FluentActions.Invoking(() => lsh.Encode([1f, float.NaN, 3f, 4f], new byte[1])).Should().Throw<ArgumentException>().WithMessage("*NaN*");
        FluentActions.Invoking(() => lsh.TrainThresholds([])).Should().Throw<ArgumentException>().WithMessage("*at least one*");
    }
}
