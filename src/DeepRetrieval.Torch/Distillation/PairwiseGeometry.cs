using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Distillation;

/// <summary>Differentiable pairwise quantities shared by the relational distillation losses.</summary>
internal static class PairwiseGeometry
{
    /// <summary>
    /// N × N Euclidean distances with an exact zero diagonal; the squared distances are clamped at a tiny ε before the square
    /// root so the gradient stays finite for coincident points (RKD's <c>pdist</c>).
    /// </summary>
    public static Tensor Distances(Tensor embeddings)
    {
        long n = embeddings.shape[0];
        Tensor squaredNorms = embeddings.square().sum(1);
        Tensor squared = (squaredNorms.unsqueeze(1) + squaredNorms.unsqueeze(0) - 2 * embeddings.matmul(embeddings.t())).clamp_min(1e-12);
        Tensor offDiagonal = ones(n, n, embeddings.dtype, embeddings.device) - eye(n, dtype: embeddings.dtype, device: embeddings.device);
        return squared.sqrt() * offDiagonal;
    }

    /// <summary>The N × (N − 1) matrix of each row's entries without the diagonal.</summary>
    public static Tensor WithoutDiagonal(Tensor square)
    {
        long n = square.shape[0];
        Tensor keep = eye(n, dtype: ScalarType.Bool, device: square.device).logical_not();
        return square.masked_select(keep).view(n, n - 1);
    }
}
