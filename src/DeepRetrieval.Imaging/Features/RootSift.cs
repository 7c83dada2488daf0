using System.Numerics.Tensors;

namespace DeepRetrieval.Imaging.Features;

/// <summary>
/// RootSIFT (Arandjelović &amp; Zisserman, "Three things everyone should know to improve object retrieval", CVPR 2012):
/// each descriptor is divided by its L1 norm and square-rooted component-wise, so that Euclidean distance between the
/// results is the Hellinger distance between the original histograms. It costs nothing at query time and consistently
/// improves matching and retrieval with SIFT; the inputs must be non-negative, as SIFT's are.
/// </summary>
public static class RootSift
{
    /// <summary>Converts row-major descriptors in place. A zero descriptor stays zero.</summary>
    /// <param name="descriptors">Row-major rows of <paramref name="length"/> non-negative values.</param>
    /// <param name="length">Components per descriptor; positive and dividing the span length.</param>
    /// <exception cref="ArgumentException">The length does not divide the span, or a value is negative or not finite.</exception>
    public static void Apply(Span<float> descriptors, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        if (descriptors.Length % length != 0)
            throw new ArgumentException($"The descriptor length {length} does not divide the {descriptors.Length} values.", nameof(descriptors));
        foreach (float value in descriptors)
        {
            if (!(value >= 0) || float.IsInfinity(value))
                throw new ArgumentException($"RootSIFT needs non-negative finite components; found {value}.", nameof(descriptors));
        }
        for (int start = 0; start < descriptors.Length; start += length)
        {
            Span<float> row = descriptors.Slice(start, length);
            float sum = TensorPrimitives.Sum<float>(row);
            if (sum <= 0) continue;
            TensorPrimitives.Multiply(row, 1f / sum, row);
            TensorPrimitives.Sqrt(row, row);
        }
    }
}
