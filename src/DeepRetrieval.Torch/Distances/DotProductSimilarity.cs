using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Distances;

/// <summary>Dot product; larger is closer (PML <c>DotProductSimilarity</c>). With normalisation it equals <see cref="CosineSimilarity"/>.</summary>
public sealed class DotProductSimilarity : EmbeddingDistance
{
    /// <summary>Creates the similarity.</summary>
    /// <param name="normalizeEmbeddings">L2-normalise rows first (PML's default is false for this distance).</param>
    public DotProductSimilarity(bool normalizeEmbeddings = false) : base(normalizeEmbeddings, isSimilarity: true) { }

    /// <inheritdoc />
    protected override Tensor ComputeMatrix(Tensor query, Tensor reference) => query.matmul(reference.t());

    /// <inheritdoc />
    protected override Tensor ComputePaired(Tensor a, Tensor b) => (a * b).sum(1);
}
