using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Augmentation;

/// <summary>
/// Linear motion blur: each selected sample is convolved with its own normalised line kernel of random angle and length,
/// centred on the pixel (the camera moved along a straight segment during exposure). A kernel cell's weight is
/// <c>max(0, 1 − distance from the cell centre to the segment)</c>, so a horizontal segment of length k − 1 is exactly a
/// 1 × k box filter along rows. All samples are filtered in one depthwise convolution; borders are replicated.
/// Angles are in degrees, counter-clockwise from the +x (rightward) axis with y pointing up.
/// </summary>
public sealed class MotionBlur : IBatchTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="kernelSize">Odd kernel side; the longest possible blur is kernelSize − 1 pixels.</param>
    /// <param name="minLength">Shortest segment length in pixels (≥ 0).</param>
    /// <param name="maxLength">Longest segment length in pixels (≤ kernelSize − 1); null means kernelSize − 1.</param>
    /// <param name="minAngle">Smallest angle in degrees.</param>
    /// <param name="maxAngle">Largest angle in degrees.</param>
    /// <param name="p">Probability that a sample is blurred.</param>
    /// <exception cref="ArgumentOutOfRangeException">The kernel size is not odd and at least 3, or a range or p is invalid.</exception>
    public MotionBlur(int kernelSize = 9, double minLength = 1, double? maxLength = null, double minAngle = 0, double maxAngle = 180, double p = 0.5)
    {
        if (kernelSize < 3 || kernelSize % 2 == 0) throw new ArgumentOutOfRangeException(nameof(kernelSize), kernelSize, "The kernel size must be odd and at least 3.");
        double longest = maxLength ?? kernelSize - 1;
        BatchInput.CheckRange(minLength, longest, 0, kernelSize - 1, "length");
        BatchInput.CheckRange(minAngle, maxAngle, -3600, 3600, "angle");
        BatchInput.CheckProbability(p, nameof(p));
        KernelSize = kernelSize;
        Length = (minLength, longest);
        Angle = (minAngle, maxAngle);
        Probability = p;
    }

    /// <summary>Kernel side.</summary>
    public int KernelSize { get; }

    /// <summary>Segment-length range in pixels.</summary>
    public (double Min, double Max) Length { get; }

    /// <summary>Angle range in degrees.</summary>
    public (double Min, double Max) Angle { get; }

    /// <summary>Probability that a sample is blurred.</summary>
    public double Probability { get; }

    /// <inheritdoc/>
    public Tensor Apply(Tensor images, Generator generator)
    {
        BatchInput.Check(images, generator);
        using var scope = NewDisposeScope();
        long n = images.shape[0];
        Tensor blur = BatchInput.Decide(generator, n, Probability, images.device);
        Tensor angle = Angle.Min + (Angle.Max - Angle.Min) * BatchInput.Uniform(generator, images.device, n);
        Tensor length = Length.Min + (Length.Max - Length.Min) * BatchInput.Uniform(generator, images.device, n);
        // A zero-length segment gives the identity kernel, which is how unselected samples pass through.
        Tensor kernels = LineKernels(angle, length * blur, KernelSize).to(images.dtype);
        return Filter(images, kernels).MoveToOuterDisposeScope();
    }

    /// <summary>N × k × k normalised line kernels (float64) for N angles in degrees and N lengths in pixels.</summary>
    internal static Tensor LineKernels(Tensor angleDegrees, Tensor length, int kernelSize)
    {
        int radius = kernelSize / 2;
        Device device = angleDegrees.device;
        Tensor offsets = arange(-radius, radius + 1, ScalarType.Float64, device);
        Tensor x = offsets.view(1, 1, -1);
        Tensor y = offsets.flip(0).view(1, -1, 1); // row 0 is the top, i.e. the largest y
        Tensor radians = (angleDegrees.to(ScalarType.Float64) * (Math.PI / 180)).view(-1, 1, 1);
        Tensor cos = radians.cos(), sin = radians.sin();
        Tensor half = (length.to(ScalarType.Float64) / 2).view(-1, 1, 1);
        Tensor along = (x * cos + y * sin).clamp(-half, half);
        Tensor dx = x - along * cos, dy = y - along * sin;
        Tensor weight = (1 - (dx * dx + dy * dy).sqrt()).clamp_min(0);
        return weight / weight.sum([1, 2], keepdim: true);
    }

    /// <summary>Convolves sample i (all channels) with kernel i: one grouped convolution over N·C single-channel maps.</summary>
    internal static Tensor Filter(Tensor images, Tensor kernels)
    {
        long n = images.shape[0], channels = images.shape[1], height = images.shape[2], width = images.shape[3];
        long k = kernels.shape[1], radius = k / 2;
        Tensor padded = nn.functional.pad(images, [radius, radius, radius, radius], PaddingModes.Replicate);
        Tensor weight = kernels.to(images.dtype, images.device).view(n, 1, k, k).repeat_interleave(channels, 0);
        Tensor filtered = nn.functional.conv2d(padded.reshape(1, n * channels, height + 2 * radius, width + 2 * radius), weight, groups: n * channels);
        return filtered.view(n, channels, height, width);
    }
}
