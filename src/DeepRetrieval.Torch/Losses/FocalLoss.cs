using DeepRetrieval.Torch.Reducers;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// Focal loss in its softmax form (Lin et al. 2017, "Focal Loss for Dense Object Detection"):
/// <c>ℓᵢ = −α_{yᵢ}·(1 − p_t)^γ·log p_t</c> with <c>p_t = softmax(logits)[i, yᵢ]</c>. The factor (1 − p_t)^γ fades out
/// well-classified examples so that training concentrates on hard ones; γ = 0 and α = 1 give cross-entropy. log p_t comes from
/// log-softmax, so large logits do not overflow. Averaged over the batch by default.
/// </summary>
public sealed class FocalLoss : LogitLoss
{
    // Managed values: a tensor built here would die with the dispose scope the constructor runs in.
    private readonly double[]? _alpha;

    /// <summary>Creates the loss.</summary>
    /// <param name="gamma">γ ≥ 0, the focusing exponent (the paper's default 2).</param>
    /// <param name="alpha">Optional per-class weights α_c ≥ 0, indexed by label; null weighs every class 1.</param>
    /// <param name="reducer">Reduction when called on its own; null means the mean.</param>
    /// <exception cref="ArgumentException">γ is negative or not finite, or a weight is negative or not finite.</exception>
    public FocalLoss(double gamma = 2, IReadOnlyList<double>? alpha = null, LossReducer? reducer = null)
        : base(nameof(FocalLoss), reducer ?? new MeanReducer())
    {
        if (!(gamma >= 0) || double.IsInfinity(gamma)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "γ must be finite and non-negative.");
        Gamma = gamma;
        if (alpha is not null)
        {
            if (alpha.Count == 0) throw new ArgumentException("Class weights α need at least one class.", nameof(alpha));
            for (int c = 0; c < alpha.Count; c++)
                if (!(alpha[c] >= 0) || double.IsInfinity(alpha[c]))
                    throw new ArgumentException($"α for class {c} is {alpha[c]}; weights must be finite and non-negative.", nameof(alpha));
            _alpha = alpha.ToArray();
        }
    }

    /// <summary>γ, the focusing exponent.</summary>
    public double Gamma { get; }

    /// <summary>The per-class weights α, or null when every class weighs 1.</summary>
    public IReadOnlyList<double>? Alpha => _alpha;

    /// <inheritdoc />
    protected override LossTerms ComputeTerms(Tensor logits, Tensor labels)
    {
        Tensor values = Focal(logits, labels, Gamma);
        if (_alpha is not null)
        {
            if (logits.shape[1] > _alpha.Length)
                throw new ArgumentException($"The logits have {logits.shape[1]} classes but α has {_alpha.Length} weights.", nameof(logits));
            values = values * tensor(_alpha, values.dtype, values.device).index_select(0, labels);
        }
        return new LossTerms(values, LossTermKind.Element);
    }

    /// <summary>−(1 − p_t)^γ·log p_t per row.</summary>
    /// <param name="logits">n × C logits.</param>
    /// <param name="labels">n int64 labels.</param>
    /// <param name="gamma">γ ≥ 0.</param>
    internal static Tensor Focal(Tensor logits, Tensor labels, double gamma)
    {
        Tensor logPt = nn.functional.log_softmax(logits, 1).gather(1, labels.unsqueeze(1)).squeeze(1);
        if (gamma == 0) return -logPt;
        // The floor keeps the derivative of x^γ finite at p_t = 1 when γ < 1 (the clamp passes no gradient there).
        Tensor modulation = (1 - logPt.exp()).clamp_min(1e-30).pow(gamma);
        return -modulation * logPt;
    }
}
