namespace DeepRetrieval.Torch.Heads;

/// <summary>What follows the projection of an <see cref="EmbeddingHead"/>.</summary>
public enum HeadNeck
{
    /// <summary>Nothing: the projection is the embedding.</summary>
    None = 0,

    /// <summary>A <c>BatchNorm1d</c> that is part of the embedding: every loss and inference see its output.</summary>
    BatchNorm = 1,

    /// <summary>
    /// The <see cref="BNNeck"/> of Luo et al.: metric losses see the projection, classification losses and inference the
    /// batch-normalised feature (<see cref="INeckHead.ForwardBoth"/>).
    /// </summary>
    BNNeck = 2,
}
