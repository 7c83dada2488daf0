using System.Runtime.CompilerServices;
using System.Numerics.Tensors;

namespace DeepRetrieval.Imaging.Features;

/// <summary>
/// SIFT's Gaussian and difference-of-Gaussian pyramids, built as OpenCV's <c>SIFT_Impl::buildGaussianPyramid</c> and
/// <c>buildDoGPyramid</c> do: <c>layers + 3</c> Gaussian images per octave, image i of an octave blurred from image i − 1
/// by the incremental σᵢ = σ·kⁱ⁻¹·√(k² − 1) with k = 2^(1/layers), the first image of each octave the image
/// <c>layers</c> of the previous octave subsampled by two (nearest neighbour), and DoG image i = Gaussian i + 1 − Gaussian i.
/// Planes come from a <see cref="PyramidBuffers"/>, which a <see cref="Sift"/> instance keeps between images: renting
/// a dozen multi-megabyte planes from the shared pool per image overflows its buckets and turns every image into
/// large-object allocations.
/// </summary>
internal sealed class ScaleSpace
{
    // The blur the input image is assumed to have already (OpenCV's SIFT_INIT_SIGMA).
    private const float InitialSigma = 0.5f;

    private readonly float[][] _gaussian;
    private readonly float[][] _dog;
    private readonly int[] _widths;
    private readonly int[] _heights;

    private readonly PyramidBuffers _buffers;

    private ScaleSpace(int octaves, int layers, int firstOctave, bool withDog, PyramidBuffers buffers)
    {
        _buffers = buffers;
        Octaves = octaves;
        Layers = layers;
        FirstOctave = firstOctave;
        _gaussian = new float[octaves * (layers + 3)][];
        _dog = withDog ? new float[octaves * (layers + 2)][] : [];
        _widths = new int[octaves];
        _heights = new int[octaves];
    }

    /// <summary>Octaves in the pyramid.</summary>
    public int Octaves { get; }

    /// <summary>Intervals per octave (OpenCV's <c>nOctaveLayers</c>).</summary>
    public int Layers { get; }

    /// <summary>−1 when the first octave is the image up-sampled by two, else 0.</summary>
    public int FirstOctave { get; }

    public int Width(int octave) => _widths[octave];

    public int Height(int octave) => _heights[octave];

    /// <summary>Gaussian image <paramref name="layer"/> (0 … layers + 2) of pyramid octave <paramref name="octave"/> (0-based from the first octave).</summary>
    public float[] Gaussian(int octave, int layer) => _gaussian[octave * (Layers + 3) + layer];

    /// <summary>DoG image <paramref name="layer"/> (0 … layers + 1) of pyramid octave <paramref name="octave"/>.</summary>
    public float[] Dog(int octave, int layer) => _dog[octave * (Layers + 2) + layer];

    /// <summary>OpenCV's automatic octave count for a base image: <c>cvRound(log₂ min(w, h) − 2) − firstOctave</c>.</summary>
    public static int AutomaticOctaves(int width, int height, int firstOctave)
    {
        int baseSide = Math.Min(width, height) << (firstOctave < 0 ? 1 : 0);
        return (int)Math.Round(Math.Log(baseSide) / Math.Log(2) - 2, MidpointRounding.ToEven) - firstOctave;
    }

    /// <summary>Builds the pyramids of a row-major width × height grey image with intensities scaled as 8-bit levels (0 … 255).</summary>
    public static ScaleSpace Build(ReadOnlySpan<float> image, int width, int height, int octaves, int layers, int firstOctave, double sigma,
        bool withDog, int maxDegreeOfParallelism, PyramidBuffers buffers, CancellationToken cancellationToken)
    {
        var space = new ScaleSpace(octaves, layers, firstOctave, withDog, buffers);
        space.Fill(image, width, height, sigma, maxDegreeOfParallelism, cancellationToken);
        return space;
    }

    private void Fill(ReadOnlySpan<float> image, int width, int height, double sigma, int threads, CancellationToken cancellationToken)
    {
        int baseWidth = FirstOctave < 0 ? width * 2 : width, baseHeight = FirstOctave < 0 ? height * 2 : height;
        float[] scratch = _buffers.Plane(0, baseWidth * baseHeight);
        {
            // createInitialImage: bring the input from its assumed blur to σ (up-sampling doubles the assumed blur).
            float[] first = Rent(0, 0, baseWidth, baseHeight);
            // In float, as OpenCV computes it (sqrtf of float σ).
            float initial = FirstOctave < 0 ? 2 * InitialSigma : InitialSigma, sigmaSingle = (float)sigma;
            float difference = MathF.Sqrt(MathF.Max(sigmaSingle * sigmaSingle - initial * initial, 0.01f));
            // The first DoG plane is not needed until the first octave is blurred: it holds the (up-sampled) input meanwhile.
            float[] source = _buffers.Plane(1 + _gaussian.Length, baseWidth * baseHeight);
            if (FirstOctave < 0)
                UpsampleLinear(image, width, height, source, scratch);
            else
                image.CopyTo(source);
            GaussianBlur.Apply(source, first, scratch, baseWidth, baseHeight, GaussianBlur.Kernel(difference), threads);

            double[] increments = IncrementalSigmas(sigma);
            float[][] kernels = increments.Select(s => s > 0 ? GaussianBlur.Kernel(s) : []).ToArray();
            for (int o = 0; o < Octaves; o++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int w = o == 0 ? baseWidth : _widths[o - 1] / 2, h = o == 0 ? baseHeight : _heights[o - 1] / 2;
                _widths[o] = w;
                _heights[o] = h;
                if (o > 0)
                {
                    float[] previous = Gaussian(o - 1, Layers);
                    float[] target = Rent(o, 0, w, h);
                    int previousWidth = _widths[o - 1];
                    for (int y = 0; y < h; y++)
                        for (int x = 0; x < w; x++)
                            target[y * w + x] = previous[2 * y * previousWidth + 2 * x];
                }
                for (int i = 1; i < Layers + 3; i++)
                    GaussianBlur.Apply(Gaussian(o, i - 1), Rent(o, i, w, h), scratch, w, h, kernels[i], threads);
                if (_dog.Length > 0)
                {
                    for (int i = 0; i < Layers + 2; i++)
                    {
                        float[] dog = _buffers.Plane(1 + _gaussian.Length + o * (Layers + 2) + i, w * h);
                        _dog[o * (Layers + 2) + i] = dog;
                        TensorPrimitives.Subtract(Gaussian(o, i + 1).AsSpan(0, w * h), Gaussian(o, i).AsSpan(0, w * h), dog.AsSpan(0, w * h));
                    }
                }
            }
        }
    }

    private float[] Rent(int octave, int layer, int width, int height)
    {
        float[] plane = _buffers.Plane(1 + octave * (Layers + 3) + layer, width * height);
        _gaussian[octave * (Layers + 3) + layer] = plane;
        return plane;
    }

    // σ of the blur that takes Gaussian image i − 1 of an octave to image i: √(σ_total² − σ_prev²).
    private double[] IncrementalSigmas(double sigma)
    {
        var increments = new double[Layers + 3];
        increments[0] = sigma;
        double k = Math.Pow(2.0, 1.0 / Layers);
        for (int i = 1; i < Layers + 3; i++)
        {
            double previous = Math.Pow(k, i - 1) * sigma, total = previous * k;
            increments[i] = Math.Sqrt(total * total - previous * previous);
        }
        return increments;
    }

    // OpenCV's resize(…, 2w × 2h, INTER_LINEAR) of a float image: source coordinate (d + 0.5)/2 − 0.5, weights
    // (1 − f, f); columns past the last source pixel take it alone, rows outside the image are clamped.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void UpsampleLinear(ReadOnlySpan<float> image, int width, int height, float[] destination, float[] rows)
    {
        int wide = width * 2;
        for (int y = 0; y < height; y++)
        {
            ReadOnlySpan<float> s = image.Slice(y * width, width);
            Span<float> d = rows.AsSpan(y * wide, wide);
            // Even outputs sit at source x − 0.25 (weights 0.25, 0.75 on x − 1, x), odd ones at x + 0.25 (0.75, 0.25 on
            // x, x + 1); the first takes the first pixel and the last the last pixel alone, as OpenCV's border does.
            d[0] = s[0];
            for (int x = 1; x < width; x++)
            {
                d[2 * x] = s[x - 1] * 0.25f + s[x] * 0.75f;
                d[2 * x - 1] = s[x - 1] * 0.75f + s[x] * 0.25f;
            }
            d[wide - 1] = s[width - 1];
        }
        for (int y = 0; y < height * 2; y++)
        {
            float fy = (float)((y + 0.5) * 0.5 - 0.5);
            int sy = (int)MathF.Floor(fy);
            fy -= sy;
            int row0 = Math.Clamp(sy, 0, height - 1), row1 = Math.Clamp(sy + 1, 0, height - 1);
            Span<float> target = destination.AsSpan(y * wide, wide);
            TensorPrimitives.Multiply(rows.AsSpan(row0 * wide, wide), 1f - fy, target);
            TensorPrimitives.MultiplyAdd(rows.AsSpan(row1 * wide, wide), fy, target, target);
        }
    }
}
