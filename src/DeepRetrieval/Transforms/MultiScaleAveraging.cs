using System.Numerics.Tensors;

namespace DeepRetrieval.Transforms;

/// <summary>
/// Multi-scale descriptor averaging as cirtorch's <c>extract_ms</c> does it: the descriptors of one image extracted at
/// several scales (e.g. 1, 1/√2, 1/2) are combined by the generalised mean — v = (Σₛ dₛ^p / S)^(1/p) component-wise
/// (p = 1 is the plain mean; p = 3 matches GeM pooling) — and L2-normalised.
/// </summary>
public static class MultiScaleAveraging
{
    /// <summary>Combines per-scale descriptors of a batch of images.</summary>
    /// <param name="descriptors">
    /// scales × count × dimension values: the descriptors of all images at the first scale (row-major), then at the
    /// second scale, and so on.
    /// </param>
    /// <param name="scales">Number of scales; positive.</param>
    /// <param name="dimension">Components per descriptor; positive.</param>
    /// <param name="output">Receives count × dimension combined, unit-length descriptors.</param>
    /// <param name="power">p of the generalised mean; 1 for the arithmetic mean. Values must be non-negative when p ≠ 1.</param>
    /// <exception cref="ArgumentException">The sizes do not match, a value is not finite, or a value is negative while p ≠ 1.</exception>
    public static void Combine(ReadOnlySpan<float> descriptors, int scales, int dimension, Span<float> output, float power = 1f)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(scales);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (!(power > 0) || !float.IsFinite(power))
            throw new ArgumentOutOfRangeException(nameof(power), power, "power must be a positive, finite number.");
        if (output.Length % dimension != 0 || output.IsEmpty)
            throw new ArgumentException($"output holds {output.Length} values, not a positive whole number of rows of {dimension}.", nameof(output));
        long expected = (long)scales * output.Length;
        if (descriptors.Length != expected)
            throw new ArgumentException($"descriptors holds {descriptors.Length} values; {scales} scales of {output.Length / dimension} descriptors of {dimension} need {expected}.", nameof(descriptors));
        if (!FiniteValues.All(descriptors))
            throw new ArgumentException("descriptors holds NaN or infinity.", nameof(descriptors));
        if (power != 1f && TensorPrimitives.Min(descriptors) < 0f)
            throw new ArgumentException($"A generalised mean with p = {power} needs non-negative descriptors (as GeM produces); use p = 1 for signed ones.", nameof(descriptors));

        int count = output.Length / dimension, stride = output.Length;
        Span<float> sum = output;
        sum.Clear();
        float[] scratch = new float[dimension];
        for (int s = 0; s < scales; s++)
        {
            for (int i = 0; i < count; i++)
            {
                ReadOnlySpan<float> d = descriptors.Slice(s * stride + i * dimension, dimension);
                Span<float> target = sum.Slice(i * dimension, dimension);
                if (power == 1f)
                {
                    TensorPrimitives.Add(target, d, target);
                }
                else
                {
                    TensorPrimitives.Pow(d, power, scratch);
                    TensorPrimitives.Add(target, scratch, target);
                }
            }
        }

        for (int i = 0; i < count; i++)
        {
            Span<float> v = output.Slice(i * dimension, dimension);
            TensorPrimitives.Divide(v, scales, v);
            if (power != 1f) TensorPrimitives.Pow(v, 1f / power, v);
            float norm = TensorPrimitives.Norm(v);
            if (norm > 0f) TensorPrimitives.Divide(v, norm, v);
        }
    }
}
