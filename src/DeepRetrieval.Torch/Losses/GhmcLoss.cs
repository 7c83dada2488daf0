using DeepRetrieval.Torch.Reducers;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// GHM-C, the gradient harmonizing classification loss (Li, Liu &amp; Wang 2019, "Gradient Harmonized Single-stage Detector"), in the
/// paper's binary sigmoid form applied to every class of a one-hot target. With <c>p = σ(x)</c> and target y ∈ {0, 1}, the gradient
/// norm is <c>g = |p − y|</c>; [0, 1] is cut into <see cref="Bins"/> equal bins and each logit's binary cross-entropy is weighted by
/// <c>β = N / GD(g)</c>, where N = n·C is the number of logits and the gradient density GD(g) is the (exponential moving average, with
/// <see cref="Momentum"/>, of the) count of logits in g's bin times the number of non-empty bins:
/// <c>L = (1/N)·Σ β·BCE(x, y)</c>, so the many easy logits and the few outliers both lose weight. The moving average is state
/// updated by every call, as in the authors' code; call <see cref="ResetStatistics"/> to forget it. Each batch element's value is
/// its row's share of that sum, so a mean over elements gives L.
/// </summary>
public sealed class GhmcLoss : LogitLoss
{
    private readonly double[] _averageCounts;

    /// <summary>Creates the loss.</summary>
    /// <param name="bins">Number of gradient-norm bins (the paper's 10; at least 1).</param>
    /// <param name="momentum">Weight of the old counts in the moving average, in [0, 1); 0 uses the batch's counts (the paper uses 0.75).</param>
    /// <param name="reducer">Reduction when called on its own; null means the mean (which gives the paper's normalisation).</param>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than one bin, or momentum outside [0, 1).</exception>
    public GhmcLoss(int bins = 10, double momentum = 0.75, LossReducer? reducer = null)
        : base(nameof(GhmcLoss), reducer ?? new MeanReducer())
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        if (!(momentum >= 0 && momentum < 1)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "Momentum must lie in [0, 1).");
        Bins = bins;
        Momentum = momentum;
        _averageCounts = new double[bins];
    }

    /// <summary>Number of gradient-norm bins.</summary>
    public int Bins { get; }

    /// <summary>Weight of the old counts in the moving average of bin counts.</summary>
    public double Momentum { get; }

    /// <summary>Forgets the moving average of bin counts.</summary>
    public void ResetStatistics() => Array.Clear(_averageCounts);

    /// <inheritdoc />
    protected override LossTerms ComputeTerms(Tensor logits, Tensor labels)
    {
        long classes = logits.shape[1];
        Tensor target = nn.functional.one_hot(labels, classes).to(logits.dtype);
        Tensor weights = HarmonizingWeights(logits, target);
        // Binary cross-entropy with logits, softplus(x) − x·y, stable for any x.
        Tensor crossEntropy = nn.functional.softplus(logits) - logits * target;
        return new LossTerms((weights * crossEntropy).sum(1) / classes, LossTermKind.Element);
    }

    private Tensor HarmonizingWeights(Tensor logits, Tensor target)
    {
        using var scope = NewDisposeScope();
        Tensor gradientNorm = (logits.detach().sigmoid() - target).abs();
        Tensor bin = (gradientNorm * Bins).floor().clamp(0, Bins - 1).to(ScalarType.Int64).flatten();
        long[] counts = bin.bincount(null, Bins).to(ScalarType.Int64).data<long>().ToArray();
        double total = gradientNorm.numel();
        var binWeights = new double[Bins];
        int occupied = 0;
        for (int i = 0; i < Bins; i++)
        {
            if (counts[i] == 0) continue;
            occupied++;
            if (Momentum > 0)
            {
                _averageCounts[i] = Momentum * _averageCounts[i] + (1 - Momentum) * counts[i];
                binWeights[i] = total / _averageCounts[i];
            }
            else binWeights[i] = total / counts[i];
        }
        if (occupied > 0)
            for (int i = 0; i < Bins; i++) binWeights[i] /= occupied;
        return tensor(binWeights, logits.dtype, logits.device).index_select(0, bin).view_as(logits).MoveToOuterDisposeScope();
    }
}
