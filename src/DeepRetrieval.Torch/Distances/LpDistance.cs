using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Distances;

/// <summary>
/// Minkowski distance <c>(Σ|aᵢ − bᵢ|^p)^(1/p)</c> raised to <see cref="Power"/>; smaller is closer (PML <c>LpDistance</c>,
/// whose defaults are p = 2, power = 1 and normalised rows). Power 2 with p = 2 gives the squared Euclidean distance, whose
/// gradient stays finite at zero distance.
/// </summary>
public sealed class LpDistance : EmbeddingDistance
{
    /// <summary>Creates the distance.</summary>
    /// <param name="normalizeEmbeddings">L2-normalise rows first (PML's default: true).</param>
    /// <param name="p">The norm's order, at least 1.</param>
    /// <param name="power">The exponent applied to the distance, positive.</param>
    public LpDistance(bool normalizeEmbeddings = true, double p = 2, double power = 1) : base(normalizeEmbeddings, isSimilarity: false)
    {
        if (!(p >= 1) || double.IsInfinity(p)) throw new ArgumentOutOfRangeException(nameof(p), p, "p must be a finite number >= 1.");
        if (!(power > 0) || double.IsInfinity(power)) throw new ArgumentOutOfRangeException(nameof(power), power, "The power must be a finite positive number.");
        P = p;
        Power = power;
    }

    /// <summary>The norm's order.</summary>
    public double P { get; }

    /// <summary>The exponent applied to the distance.</summary>
    public double Power { get; }

    /// <inheritdoc />
    protected override Tensor ComputeMatrix(Tensor query, Tensor reference)
    {
        if (P == 2 && Power == 2)
        {
            // ‖a‖² + ‖b‖² − 2ab: one matmul, and a gradient that is finite where rows coincide.
            Tensor squared = query.pow(2).sum(1, keepdim: true) + reference.pow(2).sum(1).unsqueeze(0) - 2 * query.matmul(reference.t());
            return squared.clamp_min(0);
        }
        return Raise(cdist(query, reference, P));
    }

    /// <inheritdoc />
    protected override Tensor ComputePaired(Tensor a, Tensor b)
    {
        if (P == 2 && Power == 2) return (a - b).pow(2).sum(1);
        return Raise(linalg.vector_norm(a - b, P, [1L]));
    }

    private Tensor Raise(Tensor distances) => Power == 1 ? distances : distances.pow(Power);
}
