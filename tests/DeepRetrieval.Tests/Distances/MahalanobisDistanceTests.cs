using DeepRetrieval.Distances;

namespace DeepRetrieval.Tests.Distances;

public class MahalanobisDistanceTests
{
    [Fact]
    public void Compute_MatchesHandWorkedValue()
    {
        // M = [[2, 1], [1, 3]], x − y = (1, 2): (1,2)·M·(1,2)ᵀ = 1·(2+2) + 2·(1+6) = 4 + 14 = 18
        var distance = new MahalanobisDistance([2f, 1f, 1f, 3f], 2);
        distance.Compute([3f, 5f], [2f, 3f]).Should().BeApproximately(18f, 1e-5f);
    }

    [Fact]
    public void Compute_WithIdentity_IsSquaredL2()
    {
        const int d = 20;
        var identity = new float[d * d];
        for (int i = 0; i < d; i++) identity[i * d + i] = 1f;
        float[] x = TestData.Gaussian(1, d, 3), y = TestData.Gaussian(1, d, 4);
        new MahalanobisDistance(identity, d).Compute(x, y).Should().BeApproximately(ScalarDistance.SquaredL2(x, y), 1e-4f);
    }

    [Fact]
    public void Compute_AgreesWithScalarReference_ForRandomPsdMatrix()
    {
        const int d = 12;
        float[] a = TestData.Gaussian(d, d, 5);
        var m = new float[d * d]; // M = AᵀA is positive semi-definite
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
                for (int k = 0; k < d; k++)
                    m[i * d + j] += a[k * d + i] * a[k * d + j];
        float[] x = TestData.Gaussian(1, d, 6), y = TestData.Gaussian(1, d, 7);
        float expected = ScalarDistance.SquaredMahalanobis(x, y, m);
        new MahalanobisDistance(m, d).Compute(x, y).Should().BeApproximately(expected, Math.Abs(expected) * 1e-4f);
    }

    [Fact]
    public void FromData_WhitensTheData()
    {
        // Axis-aligned data with variances 4 and 1: distance of (2, 0) from the origin is 2²/4 = 1.
        var random = new Random(8);
        var data = new float[20000 * 2];
        for (int i = 0; i < 20000; i++)
        {
            data[2 * i] = 2f * (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
            data[2 * i + 1] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        }
        var distance = MahalanobisDistance.FromData(data, 2);
        distance.Compute([2f, 0f], [0f, 0f]).Should().BeApproximately(1f, 0.05f);
        distance.Compute([0f, 1f], [0f, 0f]).Should().BeApproximately(1f, 0.05f);
    }

    [Fact]
    public void Constructor_RejectsBadMatrices()
    {
        FluentActions.Invoking(() => new MahalanobisDistance([1f, 2f, 3f], 2)).Should().Throw<ArgumentException>().WithMessage("*2 × 2*");
        FluentActions.Invoking(() => new MahalanobisDistance([1f, 0.5f, 0f, 1f], 2)).Should().Throw<ArgumentException>().WithMessage("*symmetric*");
        FluentActions.Invoking(() => new MahalanobisDistance([1f, 0f, 0f, -1f], 2)).Should().Throw<ArgumentException>().WithMessage("*positive semi-definite*");
        FluentActions.Invoking(() => new MahalanobisDistance([float.NaN, 0f, 0f, 1f], 2)).Should().Throw<ArgumentException>().WithMessage("*NaN*");
    }
}
