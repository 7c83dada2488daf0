namespace DeepRetrieval.Imaging.Features;

/// <summary>
/// The keypoints of one image and their descriptors: keypoint i owns row i of the row-major
/// <see cref="Count"/> × <see cref="DescriptorLength"/> matrix <see cref="Descriptors"/>, the form every core aggregator
/// (<c>BagOfWords</c>, <c>Vlad</c>, <c>FisherVector</c>, <c>Asmk</c>) and index takes. An image without keypoints has
/// <see cref="Count"/> 0 and empty arrays.
/// </summary>
public sealed class LocalFeatures
{
    /// <summary>Wraps keypoints and their descriptors (the arrays are kept, not copied).</summary>
    /// <param name="keypoints">One keypoint per descriptor row.</param>
    /// <param name="descriptors">Row-major keypoints.Length × <paramref name="descriptorLength"/> values, all finite.</param>
    /// <param name="descriptorLength">Components per descriptor; positive.</param>
    /// <param name="byteScale">The factor <see cref="DescriptorsAsBytes"/> applies before rounding: 1 when the values are already 0 … 255; positive.</param>
    /// <exception cref="ArgumentException">The sizes disagree, the length or scale is not positive, or a value is not finite.</exception>
    public LocalFeatures(Keypoint[] keypoints, float[] descriptors, int descriptorLength, float byteScale = 1f)
    {
        ArgumentNullException.ThrowIfNull(keypoints);
        ArgumentNullException.ThrowIfNull(descriptors);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(descriptorLength);
        if (!(byteScale > 0) || float.IsInfinity(byteScale))
            throw new ArgumentOutOfRangeException(nameof(byteScale), byteScale, "The byte scale must be positive and finite.");
        if ((long)keypoints.Length * descriptorLength != descriptors.Length)
            throw new ArgumentException(
                $"{keypoints.Length} keypoints need {(long)keypoints.Length * descriptorLength} descriptor values of length {descriptorLength}; got {descriptors.Length}.",
                nameof(descriptors));
        if (descriptors.Length > 0 && !System.Numerics.Tensors.TensorPrimitives.IsFiniteAll<float>(descriptors))
            throw new ArgumentException("Descriptors must be finite (no NaN or infinity).", nameof(descriptors));
        Keypoints = keypoints;
        Descriptors = descriptors;
        DescriptorLength = descriptorLength;
        ByteScale = byteScale;
    }

    /// <summary>Features of an image with no keypoints.</summary>
    /// <param name="descriptorLength">Components per descriptor; positive.</param>
    public static LocalFeatures Empty(int descriptorLength) => new([], [], descriptorLength);

    /// <summary>Number of keypoints (and descriptor rows).</summary>
    public int Count => Keypoints.Length;

    /// <summary>The keypoints, in the detector's order.</summary>
    public Keypoint[] Keypoints { get; }

    /// <summary>Row-major <see cref="Count"/> × <see cref="DescriptorLength"/> descriptors.</summary>
    public float[] Descriptors { get; }

    /// <summary>Components per descriptor (128 for SIFT).</summary>
    public int DescriptorLength { get; }

    /// <summary>The factor <see cref="DescriptorsAsBytes"/> multiplies by: 1 for OpenCV-scaled SIFT, 255 for RootSIFT.</summary>
    public float ByteScale { get; }

    /// <summary>The descriptor of keypoint <paramref name="index"/>.</summary>
    /// <param name="index">Zero-based keypoint index.</param>
    public ReadOnlySpan<float> Descriptor(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return Descriptors.AsSpan(index * DescriptorLength, DescriptorLength);
    }

    /// <summary>
    /// The descriptors as bytes, OpenCV's <c>CV_8U</c> form: each value times <see cref="ByteScale"/>, rounded half to
    /// even and saturated to 0 … 255. For OpenCV-normalised SIFT this is exact (the float values are whole numbers).
    /// </summary>
    public byte[] DescriptorsAsBytes()
    {
        var bytes = new byte[Descriptors.Length];
        for (int i = 0; i < bytes.Length; i++)
            bytes[i] = (byte)Math.Clamp(MathF.Round(Descriptors[i] * ByteScale, MidpointRounding.ToEven), 0f, 255f);
        return bytes;
    }
}
