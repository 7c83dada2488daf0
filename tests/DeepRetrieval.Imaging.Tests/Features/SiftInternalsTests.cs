using DeepRetrieval.Imaging.Features;

namespace DeepRetrieval.Imaging.Tests.Features;

/// <summary>The building blocks that must reproduce OpenCV's numbers: Gaussian kernels, fastAtan2, reflect-101 borders, blur.</summary>
public class SiftInternalsTests
{
    [Theory]
    // cv2.getGaussianKernel(ksize, σ, cv2.CV_32F) for the σ of SIFT's first octave: the initial blur and two increments.
    [InlineData(1.2489996, 11, 0.00010578565706964582, 0.0018932123202830553, 0.3194114863872528)]
    [InlineData(1.2262735, 11, 7.984011608641595e-05, 0.0015916895354166627, 0.32533031702041626)]
    [InlineData(3.0898373, 27, 1.8496928532840684e-05, 6.850478530395776e-05, 0.12911580502986908)]
    public void Kernel_EqualsOpenCvsGaussianKernel(double sigma, int size, double first, double second, double centre)
    {
        float[] kernel = GaussianBlur.Kernel(sigma);
        kernel.Length.Should().Be(size);
        kernel[0].Should().BeApproximately((float)first, 1e-9f);
        kernel[1].Should().BeApproximately((float)second, 1e-9f);
        kernel[size / 2].Should().BeApproximately((float)centre, 1e-8f);
        kernel.Should().Equal(kernel.Reverse());
        kernel.Sum().Should().BeApproximately(1f, 1e-6f);
    }

    [Theory]
    // cv2.fastAtan2(y, x).
    [InlineData(1.0f, 2.0f, 26.56710433959961)]
    [InlineData(-3.0f, -0.5f, 260.53802490234375)]
    [InlineData(0.0f, -1.0f, 180.0)]
    public void FastAtan_EqualsOpenCvsFastAtan2(float y, float x, double expected) =>
        FastAtan.Degrees(y, x).Should().BeApproximately((float)expected, 1e-4f);

    [Fact]
    public void FastAtan_Vectorised_EqualsScalar_AndIsWithinAHundredthOfADegree()
    {
        var random = new Random(5);
        float[] ys = Enumerable.Range(0, 1001).Select(_ => (float)(random.NextDouble() * 20 - 10)).ToArray();
        float[] xs = Enumerable.Range(0, 1001).Select(_ => (float)(random.NextDouble() * 20 - 10)).ToArray();
        ys[0] = 0;
        xs[1] = 0;
        var angles = new float[ys.Length];
        FastAtan.Degrees(ys, xs, angles);
        for (int i = 0; i < ys.Length; i++)
        {
            angles[i].Should().Be(FastAtan.Degrees(ys[i], xs[i]));
            double exact = (Math.Atan2(ys[i], xs[i]) * 180 / Math.PI + 360) % 360;
            double error = Math.Abs((angles[i] - exact + 540) % 360 - 180);
            error.Should().BeLessThan(0.01);
        }
    }

    [Theory]
    [InlineData(-1, 5, 1)]
    [InlineData(-2, 5, 2)]
    [InlineData(5, 5, 3)]
    [InlineData(6, 5, 2)]
    [InlineData(-7, 3, 1)]
    [InlineData(3, 1, 0)]
    public void Reflect101_MirrorsWithoutRepeatingTheEdge(int p, int length, int expected) =>
        GaussianBlur.Reflect101(p, length).Should().Be(expected);

    [Fact]
    public void Blur_OfAnImpulse_IsTheOuterProductOfTheKernel()
    {
        const int width = 41, height = 37;
        var source = new float[width * height];
        source[18 * width + 20] = 1f;
        var destination = new float[source.Length];
        var scratch = new float[source.Length];
        float[] kernel = GaussianBlur.Kernel(1.6);
        GaussianBlur.Apply(source, destination, scratch, width, height, kernel, 1);
        int r = kernel.Length / 2;
        for (int y = 18 - r; y <= 18 + r; y++)
            for (int x = 20 - r; x <= 20 + r; x++)
                destination[y * width + x].Should().BeApproximately(kernel[y - 18 + r] * kernel[x - 20 + r], 1e-7f);
        destination.Sum().Should().BeApproximately(1f, 1e-5f);
    }

    [Fact]
    public void Blur_OnBands_EqualsTheSingleThreadedBlur()
    {
        const int width = 57, height = 130;
        var random = new Random(3);
        float[] source = Enumerable.Range(0, width * height).Select(_ => (float)random.NextDouble() * 255).ToArray();
        float[] kernel = GaussianBlur.Kernel(2.45);
        var one = new float[source.Length];
        var two = new float[source.Length];
        GaussianBlur.Apply(source, one, new float[source.Length], width, height, kernel, 1);
        GaussianBlur.Apply(source, two, new float[source.Length], width, height, kernel, 3);
        two.Should().Equal(one);
    }
}
