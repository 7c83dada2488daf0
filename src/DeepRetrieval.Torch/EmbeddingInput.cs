using static TorchSharp.torch;

namespace DeepRetrieval.Torch;

/// <summary>The embedding-batch check shared by the metric losses, the miners and the distillation losses.</summary>
internal static class EmbeddingInput
{
    /// <summary>Throws unless <paramref name="embeddings"/> is a 2-D floating-point tensor without NaN or infinity.</summary>
    public static void Check(Tensor embeddings, string name)
    {
        ArgumentNullException.ThrowIfNull(embeddings, name);
        if (embeddings.dim() != 2)
            throw new ArgumentException($"Embeddings must be a 2-D tensor (batch × dimension); got shape [{string.Join(", ", embeddings.shape)}].", name);
        if (!embeddings.is_floating_point())
            throw new ArgumentException($"Embeddings must be floating point; got {embeddings.dtype}.", name);
        using var finite = embeddings.detach().isfinite().all();
        if (!finite.item<bool>())
            throw new ArgumentException("Embeddings contain NaN or infinite values.", name);
    }
}
