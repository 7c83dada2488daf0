using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch;

/// <summary>
/// The seam between the two packages: TorchSharp embeddings (an n × d tensor) to and from the row-major float
/// matrices that every index of the core package takes, as Faiss takes <c>float*</c> with n and d.
/// </summary>
public static class EmbeddingTensor
{
    /// <summary>Copies an n × d tensor of embeddings (any floating dtype, any device, any strides) into a row-major array.</summary>
    /// <param name="embeddings">A 2-D floating-point tensor.</param>
    /// <returns>n · d floats, row after row.</returns>
    /// <exception cref="ArgumentException">The tensor is not 2-D, not floating point, or holds NaN or infinity.</exception>
    public static float[] ToRowMajor(Tensor embeddings)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        if (embeddings.dim() != 2)
            throw new ArgumentException($"Embeddings must be a 2-D tensor (n × d); got shape [{string.Join(", ", embeddings.shape)}].", nameof(embeddings));
        if (!embeddings.is_floating_point())
            throw new ArgumentException($"Embeddings must be floating point; got {embeddings.dtype}.", nameof(embeddings));
        using var scope = NewDisposeScope();
        Tensor values = embeddings.detach().to(ScalarType.Float32, CPU).contiguous();
        if (!values.isfinite().all().item<bool>())
            throw new ArgumentException("Embeddings contain NaN or infinite values.", nameof(embeddings));
        return values.data<float>().ToArray();
    }

    /// <summary>Copies a row-major matrix into a new n × d float32 CPU tensor.</summary>
    /// <param name="rows">n · d floats, row after row.</param>
    /// <param name="dimension">d.</param>
    /// <exception cref="ArgumentException">The length is not a multiple of <paramref name="dimension"/>.</exception>
    public static Tensor FromRowMajor(ReadOnlySpan<float> rows, int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (rows.Length % dimension != 0)
            throw new ArgumentException($"{rows.Length} values are not whole rows of dimension {dimension}.", nameof(rows));
        return tensor(rows.ToArray(), [rows.Length / dimension, dimension], ScalarType.Float32);
    }
}
