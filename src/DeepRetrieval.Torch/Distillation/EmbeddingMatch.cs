namespace DeepRetrieval.Torch.Distillation;

/// <summary>How <see cref="DirectDistillationLoss"/> compares a student embedding with its teacher embedding.</summary>
public enum EmbeddingMatch
{
    /// <summary>Mean over all components of the squared difference (FitNets-style regression).</summary>
    MeanSquaredError,

    /// <summary>Mean over rows of 1 − cosine similarity: only directions matter, as for L2-normalised retrieval embeddings.</summary>
    Cosine,
}
