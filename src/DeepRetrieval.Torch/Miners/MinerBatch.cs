using DeepRetrieval.Torch.Distances;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Miners;

/// <summary>A miner's validated, detached input and the label masks every miner needs.</summary>
internal sealed class MinerBatch
{
    private MinerBatch(Tensor embeddings, Tensor labels, Tensor? referenceEmbeddings, Tensor? referenceLabels)
    {
        Embeddings = embeddings;
        Labels = labels;
        ReferenceEmbeddings = referenceEmbeddings;
        ReferenceLabels = referenceLabels;
    }

    /// <summary>n × d detached batch embeddings.</summary>
    public Tensor Embeddings { get; }

    /// <summary>n int64 labels.</summary>
    public Tensor Labels { get; }

    /// <summary>m × d detached reference embeddings, or null when the reference set is the batch.</summary>
    public Tensor? ReferenceEmbeddings { get; }

    /// <summary>m int64 reference labels, or null when the reference set is the batch.</summary>
    public Tensor? ReferenceLabels { get; }

    /// <summary>True when positives and negatives come from the batch itself, so (i, i) is never a pair.</summary>
    public bool ReferenceIsBatch => ReferenceEmbeddings is null;

    /// <summary>Validates a miner's arguments and detaches the embeddings.</summary>
    public static MinerBatch Create(Tensor embeddings, Tensor labels, Tensor? referenceEmbeddings, Tensor? referenceLabels)
    {
        EmbeddingInput.Check(embeddings, nameof(embeddings));
        IndexTupleOps.CheckLabels(labels, nameof(labels));
        if (labels.shape[0] != embeddings.shape[0])
            throw new ArgumentException($"There are {embeddings.shape[0]} embeddings but {labels.shape[0]} labels.", nameof(labels));
        if ((referenceEmbeddings is null) != (referenceLabels is null))
            throw new ArgumentException("Reference embeddings and reference labels must be given together.", nameof(referenceLabels));
        if (referenceEmbeddings is null)
            return new MinerBatch(embeddings.detach(), labels.to(ScalarType.Int64), null, null);
        EmbeddingInput.Check(referenceEmbeddings, nameof(referenceEmbeddings));
        IndexTupleOps.CheckLabels(referenceLabels!, nameof(referenceLabels));
        if (referenceEmbeddings.shape[1] != embeddings.shape[1])
            throw new ArgumentException($"Embeddings have {embeddings.shape[1]} components but reference embeddings have {referenceEmbeddings.shape[1]}.", nameof(referenceEmbeddings));
        if (referenceLabels!.shape[0] != referenceEmbeddings.shape[0])
            throw new ArgumentException($"There are {referenceEmbeddings.shape[0]} reference embeddings but {referenceLabels.shape[0]} reference labels.", nameof(referenceLabels));
        return new MinerBatch(embeddings.detach(), labels.to(ScalarType.Int64), referenceEmbeddings.detach(), referenceLabels.to(ScalarType.Int64));
    }

    /// <summary>The n × m distance or similarity matrix between the batch and the reference set.</summary>
    public Tensor Matrix(EmbeddingDistance distance) => distance.Pairwise(Embeddings, ReferenceEmbeddings);

    /// <summary>n × m: same label, excluding (i, i) when the reference set is the batch.</summary>
    public Tensor SameLabel()
    {
        Tensor same = Labels.unsqueeze(1).eq((ReferenceLabels ?? Labels).unsqueeze(0));
        return ReferenceIsBatch ? same.logical_and(eye(Labels.shape[0], dtype: ScalarType.Bool, device: Labels.device).logical_not()) : same;
    }

    /// <summary>n × m: different label.</summary>
    public Tensor DifferentLabel() => Labels.unsqueeze(1).ne((ReferenceLabels ?? Labels).unsqueeze(0));

    /// <summary>An empty int64 index tensor on the labels' device.</summary>
    public Tensor EmptyIndices() => zeros(0, dtype: ScalarType.Int64, device: Labels.device);
}
