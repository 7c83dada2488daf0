using DeepRetrieval.Persistence;
using DeepRetrieval.Transforms;

namespace DeepRetrieval.Tests.Transforms;

public class PcaTransformTests
{
    // Orthonormal axes of a rotated frame in 3-d, and the standard deviations along them.
    private static readonly float[][] Axes =
    [
        [2f / 3, 2f / 3, 1f / 3],
        [-2f / 3, 1f / 3, 2f / 3],
        [1f / 3, -2f / 3, 2f / 3],
    ];
    private static readonly float[] Deviations = [3f, 1f, 0.3f];
    private static readonly float[] Offset = [10f, -5f, 2f];

    // x = offset + Σ σᵢ zᵢ aᵢ with independent standard normal z: covariance Σ σᵢ² aᵢ aᵢᵀ.
    private static float[] AnisotropicData(int rows, int seed)
    {
        float[] z = TestData.Gaussian(rows, 3, seed);
        var data = new float[rows * 3];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < 3; j++)
            {
                float value = Offset[j];
                for (int i = 0; i < 3; i++) value += Deviations[i] * z[r * 3 + i] * Axes[i][j];
                data[r * 3 + j] = value;
            }
        return data;
    }

    [Fact]
    public void Train_FindsTheKnownPrincipalAxes_InOrderOfVariance()
    {
        float[] data = AnisotropicData(20000, 1);
        var pca = new PcaTransform(3, 2);
        pca.IsTrained.Should().BeFalse();
        pca.Train(data);
        pca.IsTrained.Should().BeTrue();
        pca.Kind.Should().Be("PCA");

        for (int j = 0; j < 3; j++) pca.Mean[j].Should().BeApproximately(Offset[j], 0.06f);
        pca.Eigenvalues.Length.Should().Be(3);
        pca.Eigenvalues[0].Should().BeApproximately(9f, 0.3f);
        pca.Eigenvalues[1].Should().BeApproximately(1f, 0.05f);
        pca.Eigenvalues[2].Should().BeApproximately(0.09f, 0.005f);
        pca.ExplainedVarianceRatio.Should().BeApproximately(10.0 / 10.09, 0.002);
        for (int i = 0; i < 2; i++)
        {
            ReadOnlySpan<float> row = pca.Matrix.Slice(i * 3, 3);
            float cosine = row[0] * Axes[i][0] + row[1] * Axes[i][1] + row[2] * Axes[i][2];
            Math.Abs(cosine).Should().BeGreaterThan(0.999f, $"component {i} is axis {i}");
            // The sign convention: the largest-magnitude component is positive.
            float largest = row.ToArray().MaxBy(Math.Abs);
            largest.Should().BePositive();
        }
    }

    [Fact]
    public void Apply_CentresAndProjects_SoOutputsHaveTheEigenvaluesAsVariances()
    {
        float[] data = AnisotropicData(5000, 2);
        var pca = new PcaTransform(3, 2);
        pca.Train(data);
        var output = new float[5000 * 2];
        pca.Apply(data, output);
        var (means, variances, covariance) = Moments(output, 2);
        means[0].Should().BeApproximately(0, 1e-3);
        means[1].Should().BeApproximately(0, 1e-3);
        variances[0].Should().BeApproximately(pca.Eigenvalues[0], 1e-3 * pca.Eigenvalues[0]);
        variances[1].Should().BeApproximately(pca.Eigenvalues[1], 1e-3 * pca.Eigenvalues[1]);
        covariance.Should().BeApproximately(0, 1e-3);
    }

    [Fact]
    public void Whitening_GivesUnitVarianceUncorrelatedComponents()
    {
        float[] data = AnisotropicData(5000, 3);
        var pca = new PcaTransform(3, 3, whiten: true, whiteningEpsilon: 1e-9f);
        pca.Train(data);
        var output = new float[5000 * 3];
        pca.Apply(data, output);
        var (_, variances, covariance) = Moments(output, 3);
        foreach (double variance in variances) variance.Should().BeApproximately(1.0, 2e-3);
        covariance.Should().BeApproximately(0, 2e-3);

        // Epsilon shrinks the whitened variance to λ / (λ + ε).
        var damped = new PcaTransform(3, 3, whiten: true, whiteningEpsilon: 0.09f);
        damped.Train(data);
        damped.Apply(data, output);
        Moments(output, 3).Variances[2].Should().BeApproximately(damped.Eigenvalues[2] / (damped.Eigenvalues[2] + 0.09), 2e-3);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void ReverseTransform_ReconstructsUpToTheDroppedVariance(bool whiten, bool rotate)
    {
        const int n = 4000;
        float[] data = AnisotropicData(n, 4);
        var full = new PcaTransform(3, 3, whiten, 0f, rotate);
        full.Train(data);
        var y = new float[n * 3];
        var back = new float[n * 3];
        full.Apply(data, y);
        full.ReverseTransform(y, back);
        for (int i = 0; i < data.Length; i++) back[i].Should().BeApproximately(data[i], 2e-3f);

        var reduced = new PcaTransform(3, 2, whiten, 0f, rotate);
        reduced.Train(data);
        var y2 = new float[n * 2];
        reduced.Apply(data, y2);
        reduced.ReverseTransform(y2, back);
        double error = 0;
        for (int i = 0; i < data.Length; i++) error += (back[i] - data[i]) * (double)(back[i] - data[i]);
        (error / n).Should().BeApproximately(reduced.Eigenvalues[2], 0.02 * reduced.Eigenvalues[2], "the mean squared error is the dropped eigenvalue");
    }

    [Fact]
    public void RandomRotation_PreservesNorms_ButMixesComponents()
    {
        float[] data = AnisotropicData(2000, 5);
        var plain = new PcaTransform(3, 3);
        var rotated = new PcaTransform(3, 3, randomRotation: true, seed: 9);
        plain.Train(data);
        rotated.Train(data);
        var a = new float[2000 * 3];
        var b = new float[2000 * 3];
        plain.Apply(data, a);
        rotated.Apply(data, b);
        for (int r = 0; r < 2000; r++)
        {
            float na = a[3 * r] * a[3 * r] + a[3 * r + 1] * a[3 * r + 1] + a[3 * r + 2] * a[3 * r + 2];
            float nb = b[3 * r] * b[3 * r] + b[3 * r + 1] * b[3 * r + 1] + b[3 * r + 2] * b[3 * r + 2];
            nb.Should().BeApproximately(na, 1e-3f * (1 + na));
        }
        // Rotation moves variance off the first axis: its variance is no longer the top eigenvalue.
        Moments(b, 3).Variances[0].Should().NotBeApproximately(plain.Eigenvalues[0], 0.5);
    }

    [Fact]
    public void WriteAndRead_RoundTrips()
    {
        float[] data = AnisotropicData(500, 6);
        var pca = new PcaTransform(3, 2, whiten: true, whiteningEpsilon: 0.01f, randomRotation: true, seed: 5);
        pca.Train(data);
        var stream = new MemoryStream();
        pca.Write(new IndexPayloadWriter(stream));
        stream.Position = 0;
        var loaded = PcaTransform.Read(new IndexPayloadReader(stream, stream.Length, "PreTransform"));
        loaded.Whiten.Should().BeTrue();
        loaded.WhiteningEpsilon.Should().Be(0.01f);
        loaded.RandomRotation.Should().BeTrue();
        loaded.Seed.Should().Be(5);
        loaded.Matrix.ToArray().Should().Equal(pca.Matrix.ToArray());
        var a = new float[1000];
        var b = new float[1000];
        pca.Apply(data, a);
        loaded.Apply(data, b);
        b.Should().Equal(a);

        byte[] bytes = stream.ToArray();
        BitConverter.GetBytes(float.NaN).CopyTo(bytes, 12); // after input dimension, output dimension and whitening flag
        FluentActions.Invoking(() => PcaTransform.Read(new IndexPayloadReader(new MemoryStream(bytes), bytes.Length, "PreTransform")))
            .Should().Throw<InvalidDataException>().WithMessage("*epsilon*");
    }

    [Fact]
    public void BadInput_FailsWithClearExceptions()
    {
        FluentActions.Invoking(() => new PcaTransform(3, 4)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*at most*3*");
        FluentActions.Invoking(() => new PcaTransform(3, 0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new PcaTransform(3, 2, true, -1f)).Should().Throw<ArgumentOutOfRangeException>();
        var pca = new PcaTransform(3, 2);
        FluentActions.Invoking(() => pca.Apply(new float[3], new float[2])).Should().Throw<InvalidOperationException>().WithMessage("*Train*");
        FluentActions.Invoking(() => pca.Train(new float[3])).Should().Throw<ArgumentException>().WithMessage("*at least 2*");
        FluentActions.Invoking(() => pca.Train(new float[7])).Should().Throw<ArgumentException>().WithMessage("*whole rows*");
        FluentActions.Invoking(() => pca.Train([0f, 0f, 0f, 1f, float.NaN, 1f])).Should().Throw<ArgumentException>().WithMessage("*Row 1, component 1*");
        pca.Train(AnisotropicData(10, 7));
        FluentActions.Invoking(() => pca.Apply(new float[4], new float[2])).Should().Throw<ArgumentException>().WithMessage("*dimension 3*");
        FluentActions.Invoking(() => pca.Apply(new float[6], new float[2])).Should().Throw<ArgumentException>().WithMessage("*2 rows*");
        FluentActions.Invoking(() => pca.ReverseTransform(new float[3], new float[3])).Should().Throw<ArgumentException>();
    }

    private static (double[] Means, double[] Variances, double Covariance) Moments(float[] rows, int d)
    {
        int n = rows.Length / d;
        var means = new double[d];
        for (int r = 0; r < n; r++) for (int j = 0; j < d; j++) means[j] += rows[r * d + j] / (double)n;
        var variances = new double[d];
        double covariance = 0;
        for (int r = 0; r < n; r++)
        {
            for (int j = 0; j < d; j++) variances[j] += Math.Pow(rows[r * d + j] - means[j], 2) / n;
            covariance += (rows[r * d] - means[0]) * (rows[r * d + 1] - means[1]) / n;
        }
        return (means, variances, covariance);
    }
}
