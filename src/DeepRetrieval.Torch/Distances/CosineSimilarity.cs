using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Distances;

/// <summary>Cosine similarity: the dot product of L2-normalised rows, in [−1, 1]; larger is closer (PML <c>CosineSimilarity</c>).</summary>
public sealed class CosineSimilarity : EmbeddingDistance
{
    /// <summary>Creates the similarity; rows are always normalised.</summary>
    public CosineSimilarity() : base(normalizeEmbeddings: true, isSimilarity: true) { }

    /// <inheritdoc />
    protected override Tensor ComputeMatrix(Tensor query, Tensor reference) => query.matmul(reference.t());

    /// <inheritdoc />
    protected override Tensor ComputePaired(Tensor a, Tensor b) => (a * b).sum(1);
}
