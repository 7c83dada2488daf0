using DeepRetrieval.Clustering;
using DeepRetrieval.Quantization;

namespace DeepRetrieval.Tests.Quantization;

public class ProductQuantizerTests
{
    [Theory]
    [InlineData(16, 4, 8, 4, 256, 4)]
    [InlineData(16, 16, 4, 1, 16, 8)]
    [InlineData(14, 7, 4, 2, 16, 4)]  // 28 bits
    [InlineData(12, 3, 5, 4, 32, 2)]  // 15 bits
    [InlineData(14, 7, 6, 2, 64, 6)]  // 42 bits
    [InlineData(784, 56, 8, 14, 256, 56)]
    public void Shape_FollowsParameters(int d, int m, int bits, int dsub, int ksub, int codeSize)
    {
        var pq = new ProductQuantizer(d, m, bits);
        pq.SubDimension.Should().Be(dsub);
        pq.CentroidsPerSubQuantizer.Should().Be(ksub);
        pq.CodeSize.Should().Be(codeSize);
        pq.DistanceTableSize.Should().Be(m * ksub);
        pq.IsTrained.Should().BeFalse();
        pq.Centroids.IsEmpty.Should().BeTrue();
    }

    [Theory]
    [InlineData(0, 1, 8)]
    [InlineData(8, 0, 8)]
    [InlineData(8, 3, 8)]
    [InlineData(8, 2, 3)]
    [InlineData(8, 2, 9)]
    public void Constructor_RejectsBadShape(int d, int m, int bits)
    {
        var act = () => new ProductQuantizer(d, m, bits);
        act.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Train_WithExactlyKsubDistinctPoints_ReconstructsThemExactly()
    {
        // 16 training points, 4 bits: every point becomes a centroid of each subspace, so encode/decode is lossless.
        const int d = 6, m = 3;
        var data = new float[16 * d];
        for (int i = 0; i < 16; i++)
            for (int j = 0; j < d; j++)
                data[i * d + j] = i * 10 + j + (j % 2 == 0 ? 0.25f * i : 0f);
        var pq = new ProductQuantizer(d, m, 4);
        pq.Train(data);
        pq.IsTrained.Should().BeTrue();
        pq.Centroids.Length.Should().Be(m * 16 * 2);

        var codes = new byte[16 * pq.CodeSize];
        pq.Encode(data, codes);
        var decoded = new float[data.Length];
        pq.Decode(codes, decoded);
        decoded.Should().Equal(data);

        // A point's nearest centroid in each subspace is the training point it was nudged from.
        var near = new float[d];
        for (int j = 0; j < d; j++) near[j] = data[5 * d + j] + 0.5f;
        var code = new byte[pq.CodeSize];
        pq.Encode(near, code);
        var back = new float[d];
        pq.Decode(code, back);
        back.Should().Equal(data.AsSpan(5 * d, d).ToArray());
    }

    [Theory]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(16)]
    [InlineData(33)]
    public void FourBitScan_SixteenCodesAtATime_EqualsTheScalarLoopBitForBit(int m)
    {
        // 37 codes: the first 32 go through the 16-at-a-time kernel, the last 5 through the scalar loop. The last
        // code repeats the fourth, so both paths meet the same code and must give the same float.
        int d = 2 * m;
        var pq = new ProductQuantizer(d, m, 4);
        pq.Train(TestData.Gaussian(400, d, m));
        int size = pq.CodeSize;
        var codes = new byte[37 * size];
        pq.Encode(TestData.Gaussian(37, d, 100 + m), codes);
        codes.AsSpan(3 * size, size).CopyTo(codes.AsSpan(36 * size));
        var table = new float[pq.DistanceTableSize];
        pq.ComputeDistanceTable(TestData.Gaussian(1, d, 7), table, Metric.L2);

        var distances = new float[37];
        pq.ComputeDistances(table, codes, distances);
        distances[36].Should().Be(distances[3]);
        for (int i = 0; i < 37; i++)
        {
            // Each distance is the sum of the code's table entries, worked out one entry at a time.
            double sum = 0;
            for (int j = 0; j < m; j++) sum += table[j * 16 + pq.GetSubCode(codes.AsSpan(i * size, size), j)];
            distances[i].Should().BeApproximately((float)sum, 1e-4f * (float)Math.Abs(sum) + 1e-5f, $"code {i}");
        }
    }

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void Codes_ArePackedLeastSignificantBitFirst(int bits)
    {
        const int m = 5;
        var pq = new ProductQuantizer(m, m, bits);
        int ksub = 1 << bits;
        var centroids = new float[m * ksub];
        for (int i = 0; i < centroids.Length; i++) centroids[i] = i % ksub; // centroid c of every codebook is the value c
        pq.SetCentroids(centroids);

        int[] indices = [ksub - 1, 0, 3, ksub / 2 + 1, ksub - 2];
        float[] vector = indices.Select(v => (float)v).ToArray();
        var code = new byte[pq.CodeSize];
        pq.Encode(vector, code);

        ulong packed = 0;
        for (int i = 0; i < m; i++) packed |= (ulong)indices[i] << (i * bits);
        for (int b = 0; b < pq.CodeSize; b++) code[b].Should().Be((byte)(packed >> (8 * b)), $"byte {b}");
        for (int i = 0; i < m; i++) pq.GetSubCode(code, i).Should().Be(indices[i]);
    }

    [Theory]
    [InlineData(8, 24, 8, Metric.L2)]
    [InlineData(8, 21, 7, Metric.L2)]     // odd M: the kernel's odd tail
    [InlineData(8, 24, 8, Metric.InnerProduct)]
    [InlineData(4, 24, 8, Metric.L2)]
    [InlineData(4, 21, 7, Metric.InnerProduct)] // odd M with 4 bits: a lone low nibble
    [InlineData(6, 24, 6, Metric.L2)]
    public void ComputeDistances_EqualsExactDistanceToTheDecodedVector(int bits, int d, int m, Metric metric)
    {
        const int n = 403; // not a multiple of the kernel's four codes
        float[] data = TestData.Clustered(n, d, 10, 21);
        var pq = new ProductQuantizer(d, m, bits);
        pq.Train(data, new KMeansOptions { Iterations = 5 });
        var codes = new byte[n * pq.CodeSize];
        pq.Encode(data, codes);
        var decoded = new float[n * d];
        pq.Decode(codes, decoded);

        float[] query = TestData.Gaussian(1, d, 22, 3f);
        var table = new float[pq.DistanceTableSize];
        pq.ComputeDistanceTable(query, table, metric);
        var distances = new float[n];
        pq.ComputeDistances(table, codes, distances);
        for (int i = 0; i < n; i++)
        {
            double expected = 0;
            for (int j = 0; j < d; j++)
            {
                double x = decoded[i * d + j], q = query[j];
                expected += metric == Metric.L2 ? (q - x) * (q - x) : q * x;
            }
            distances[i].Should().BeApproximately((float)expected, 1e-3f * (1f + Math.Abs((float)expected)), $"code {i}");
        }
    }

    [Fact]
    public void ReconstructionError_ShrinksWithMoreBitsAndSubQuantizers()
    {
        const int d = 16, n = 3000;
        float[] data = TestData.Clustered(n, d, 30, 31);
        double total = SquaredError(data, new float[data.Length]); // error of decoding everything to zero, for scale
        double coarse = ReconstructionError(data, d, 4, 4);
        double finerBits = ReconstructionError(data, d, 4, 8);
        double moreSubspaces = ReconstructionError(data, d, 8, 8);
        coarse.Should().BeLessThan(0.2 * total);
        finerBits.Should().BeLessThan(0.8 * coarse);
        moreSubspaces.Should().BeLessThan(0.8 * finerBits);
    }

    [Fact]
    public void Train_IsReproducibleFromTheSeed_AndSubsamplesLargeSets()
    {
        const int d = 8;
        float[] data = TestData.Clustered(5000, d, 20, 41);
        var options = new KMeansOptions { Iterations = 4, MaxPointsPerCentroid = 10, Seed = 7 };
        var a = new ProductQuantizer(d, 2, 6);
        var b = new ProductQuantizer(d, 2, 6);
        a.Train(data, options);
        b.Train(data, options);
        a.Centroids.ToArray().Should().Equal(b.Centroids.ToArray());
        var c = new ProductQuantizer(d, 2, 6);
        c.Train(data, options with { Seed = 8 });
        c.Centroids.ToArray().Should().NotEqual(a.Centroids.ToArray());
    }

    [Fact]
    public void BadInput_FailsWithClearExceptions()
    {
        var pq = new ProductQuantizer(4, 4, 4); // two-byte codes, 64-entry tables
        var codes = new byte[pq.CodeSize];
        pq.Invoking(p => p.Encode(new float[4], codes)).Should().Throw<InvalidOperationException>().WithMessage("*trained*");
        pq.Invoking(p => p.Decode(codes, new float[4])).Should().Throw<InvalidOperationException>();
        pq.Invoking(p => p.ComputeDistanceTable(new float[4], new float[64], Metric.L2)).Should().Throw<InvalidOperationException>();
        pq.Invoking(p => p.Train(new float[15 * 4])).Should().Throw<ArgumentException>().WithMessage("*at least 16*");
        pq.Invoking(p => p.Train(new float[65])).Should().Throw<ArgumentException>().WithMessage("*whole rows*");

        float[] data = TestData.Gaussian(64, 4, 51);
        data[9] = float.NaN;
        pq.Invoking(p => p.Train(data)).Should().Throw<ArgumentException>().WithMessage("*Row 2, component 1*");
        data[9] = 0f;
        pq.Train(data, new KMeansOptions { Iterations = 2 });

        pq.Invoking(p => p.Encode(new float[8], new byte[3])).Should().Throw<ArgumentException>().WithMessage("*codes buffer*");
        pq.Invoking(p => p.Encode([1f, 2f, float.PositiveInfinity, 3f], codes)).Should().Throw<ArgumentException>();
        pq.Invoking(p => p.Decode(new byte[3], new float[8])).Should().Throw<ArgumentException>().WithMessage("*whole codes*");
        pq.Invoking(p => p.Decode(new byte[4], new float[7])).Should().Throw<ArgumentException>().WithMessage("*vectors buffer*");
        pq.Invoking(p => p.ComputeDistanceTable(new float[3], new float[64], Metric.L2)).Should().Throw<ArgumentException>().WithMessage("*4 values*");
        pq.Invoking(p => p.ComputeDistanceTable(new float[4], new float[63], Metric.L2)).Should().Throw<ArgumentException>().WithMessage("*64*");
        pq.Invoking(p => p.ComputeDistanceTable(new float[4], new float[64], Metric.Cosine)).Should().Throw<ArgumentException>().WithMessage("*Cosine*");
        pq.Invoking(p => p.ComputeDistanceTable([0f, float.NaN, 0f, 0f], new float[64], Metric.L2)).Should().Throw<ArgumentException>().WithMessage("*finite*");
        pq.Invoking(p => p.ComputeDistances(new float[64], new byte[4], new float[1])).Should().Throw<ArgumentException>().WithMessage("*distances buffer*");
        pq.Invoking(p => p.ComputeDistances(new float[63], new byte[4], new float[2])).Should().Throw<ArgumentException>().WithMessage("*table*");
        pq.Invoking(p => p.GetSubCode(codes, 4)).Should().Throw<ArgumentOutOfRangeException>();
    }

    private static double ReconstructionError(float[] data, int d, int m, int bits)
    {
        var pq = new ProductQuantizer(d, m, bits);
        pq.Train(data, new KMeansOptions { Iterations = 6 });
        var codes = new byte[data.Length / d * pq.CodeSize];
        pq.Encode(data, codes);
        var decoded = new float[data.Length];
        pq.Decode(codes, decoded);
        return SquaredError(data, decoded);
    }

    private static double SquaredError(float[] a, float[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (a[i] - b[i]) * (double)(a[i] - b[i]);
        return sum;
    }
}
