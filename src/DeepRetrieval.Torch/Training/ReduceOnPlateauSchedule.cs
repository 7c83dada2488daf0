namespace DeepRetrieval.Torch.Training;

/// <summary>
/// Reduce-on-plateau, as PyTorch's <c>ReduceLROnPlateau</c> in mode "max" with a relative threshold, driven once per epoch by
/// the validation metric (MAP@R): a metric better than best·(1 + <see cref="Threshold"/>) becomes the best; after more than
/// <see cref="Patience"/> epochs without one, every rate is multiplied by <see cref="Factor"/> (never below
/// <see cref="MinLearningRate"/>) and <see cref="Cooldown"/> epochs pass before bad epochs count again. NaN metrics (no
/// validation) are ignored.
/// </summary>
public sealed class ReduceOnPlateauSchedule : LearningRateSchedule
{
    private double _best = double.NegativeInfinity;
    private int _badEpochs;
    private int _cooldownLeft;
    private double _scale = 1;

    /// <summary>Creates the schedule with PyTorch's defaults.</summary>
    /// <param name="factor">Multiplier applied at a plateau, in (0, 1).</param>
    /// <param name="patience">Epochs without improvement tolerated.</param>
    /// <param name="threshold">Relative improvement that counts.</param>
    /// <param name="cooldown">Epochs after a reduction before counting resumes.</param>
    /// <param name="minLearningRate">Floor of every rate.</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public ReduceOnPlateauSchedule(double factor = 0.1, int patience = 10, double threshold = 1e-4, int cooldown = 0, double minLearningRate = 0)
    {
        if (!(factor > 0 && factor < 1)) throw new ArgumentOutOfRangeException(nameof(factor), factor, "The factor must lie in (0, 1).");
        ArgumentOutOfRangeException.ThrowIfNegative(patience);
        ArgumentOutOfRangeException.ThrowIfNegative(cooldown);
        if (!(threshold >= 0) || double.IsInfinity(threshold)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "The threshold must be non-negative and finite.");
        if (!(minLearningRate >= 0) || double.IsInfinity(minLearningRate)) throw new ArgumentOutOfRangeException(nameof(minLearningRate), minLearningRate, "The minimum rate must be non-negative and finite.");
        Factor = factor;
        Patience = patience;
        Threshold = threshold;
        Cooldown = cooldown;
        MinLearningRate = minLearningRate;
    }

    /// <summary>Multiplier applied at a plateau.</summary>
    public double Factor { get; }

    /// <summary>Epochs without improvement tolerated.</summary>
    public int Patience { get; }

    /// <summary>Relative improvement that counts.</summary>
    public double Threshold { get; }

    /// <summary>Epochs after a reduction before counting resumes.</summary>
    public int Cooldown { get; }

    /// <summary>Floor of every rate.</summary>
    public double MinLearningRate { get; }

    /// <summary>The product of the reductions so far.</summary>
    public double Scale => _scale;

    /// <inheritdoc />
    public override double LearningRate(double baseLearningRate, long step)
    {
        CheckStep(step);
        return Math.Max(baseLearningRate * _scale, MinLearningRate);
    }

    /// <inheritdoc />
    public override void ReportEpoch(double metric)
    {
        if (double.IsNaN(metric)) return;
        if (metric > _best * (1 + Threshold) || double.IsNegativeInfinity(_best))
        {
            _best = metric;
            _badEpochs = 0;
        }
        else
        {
            _badEpochs++;
        }
        if (_cooldownLeft > 0)
        {
            _cooldownLeft--;
            _badEpochs = 0;
        }
        if (_badEpochs > Patience)
        {
            _scale *= Factor;
            _cooldownLeft = Cooldown;
            _badEpochs = 0;
        }
    }

    /// <inheritdoc />
    public override double[] SaveState() => [_best, _badEpochs, _cooldownLeft, _scale];

    /// <inheritdoc />
    public override void LoadState(double[] state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Length != 4) throw new ArgumentException($"A plateau schedule's state has 4 values; got {state.Length}.", nameof(state));
        (_best, _badEpochs, _cooldownLeft, _scale) = (state[0], (int)state[1], (int)state[2], state[3]);
    }
}
