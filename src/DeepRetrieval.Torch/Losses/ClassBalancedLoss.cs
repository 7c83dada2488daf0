using DeepRetrieval.Torch.Reducers;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// Class-balanced loss (Cui et al. 2019, "Class-Balanced Loss Based on Effective Number of Samples"): each example's softmax
/// cross-entropy (γ = 0) or focal loss (γ &gt; 0) is weighted by its class's inverse effective number of samples,
/// <c>w_c = (1 − β)/(1 − β^{n_c})</c>, normalised so that <c>Σ_c w_c = C</c>; <c>ℓᵢ = w_{yᵢ}·FL_γ(logitsᵢ, yᵢ)</c>, averaged over the
/// batch by default. β = 0 weighs every class alike; β → 1 approaches inverse class frequency.
/// </summary>
public sealed class ClassBalancedLoss : LogitLoss
{
    // Managed values: a tensor built here would die with the dispose scope the constructor runs in.
    private readonly double[] _classWeights;

    /// <summary>Creates the loss.</summary>
    /// <param name="samplesPerClass">n_c, the number of training examples of each class, indexed by label.</param>
    /// <param name="beta">β in [0, 1) (the paper uses 0.9, 0.99, 0.999, 0.9999).</param>
    /// <param name="gamma">Focal exponent γ ≥ 0; 0 weighs plain softmax cross-entropy.</param>
    /// <param name="reducer">Reduction when called on its own; null means the mean.</param>
    /// <exception cref="ArgumentException">A count is below 1, the counts are empty, β is outside [0, 1) or γ is negative.</exception>
    public ClassBalancedLoss(IReadOnlyList<long> samplesPerClass, double beta = 0.9999, double gamma = 0, LossReducer? reducer = null)
        : base(nameof(ClassBalancedLoss), reducer ?? new MeanReducer())
    {
        ArgumentNullException.ThrowIfNull(samplesPerClass);
        if (samplesPerClass.Count == 0) throw new ArgumentException("At least one class count is needed.", nameof(samplesPerClass));
        if (!(beta >= 0 && beta < 1)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "β must lie in [0, 1).");
        if (!(gamma >= 0) || double.IsInfinity(gamma)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "γ must be finite and non-negative.");
        var weights = new double[samplesPerClass.Count];
        for (int c = 0; c < weights.Length; c++)
        {
            if (samplesPerClass[c] < 1)
                throw new ArgumentException($"Class {c} has {samplesPerClass[c]} samples; every class needs at least one.", nameof(samplesPerClass));
            // 1 − β^n = −(e^{n·log β} − 1), with a series for tiny exponents so that β close to 1 keeps its precision.
            weights[c] = beta == 0 ? 1 : (1 - beta) / -ExpMinusOne(samplesPerClass[c] * Math.Log(beta));
        }
        double scale = weights.Length / weights.Sum();
        for (int c = 0; c < weights.Length; c++) weights[c] *= scale;
        _classWeights = weights;
        Beta = beta;
        Gamma = gamma;
    }

    /// <summary>β, the hyper-parameter of the effective number of samples.</summary>
    public double Beta { get; }

    /// <summary>γ, the focal exponent (0: cross-entropy).</summary>
    public double Gamma { get; }

    /// <summary>The normalised class weights w_c (they sum to the number of classes).</summary>
    public IReadOnlyList<double> ClassWeights => _classWeights;

    private static double ExpMinusOne(double x) => Math.Abs(x) < 1e-5 ? x + x * x / 2 + x * x * x / 6 : Math.Exp(x) - 1;

    /// <inheritdoc />
    protected override LossTerms ComputeTerms(Tensor logits, Tensor labels)
    {
        if (logits.shape[1] > _classWeights.Length)
            throw new ArgumentException($"The logits have {logits.shape[1]} classes but {_classWeights.Length} class counts were given.", nameof(logits));
        Tensor weights = tensor(_classWeights, logits.dtype, logits.device).index_select(0, labels);
        return new LossTerms(FocalLoss.Focal(logits, labels, Gamma) * weights, LossTermKind.Element);
    }
}
