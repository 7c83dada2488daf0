namespace DeepRetrieval.Torch.Training;

/// <summary>
/// Linear warm-up then cosine decay, the usual fine-tuning schedule (as transformers' <c>get_cosine_schedule_with_warmup</c>,
/// with a floor): for t &lt; w the factor rises linearly from <see cref="WarmupStartFactor"/> to 1,
/// <c>f = s + (1 − s)·t / w</c>; afterwards, with p = min(1, (t − w) / (T − w)),
/// <c>f = m + (1 − m)·(1 + cos πp) / 2</c>, m = <see cref="MinFactor"/>. The rate is the base rate times f; past T it stays at m.
/// </summary>
public sealed class WarmupCosineSchedule : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="warmupSteps">w, steps of linear warm-up (0 for none).</param>
    /// <param name="totalSteps">T, the step at which the cosine reaches its floor; greater than w.</param>
    /// <param name="warmupStartFactor">s, the factor at step 0, in [0, 1].</param>
    /// <param name="minFactor">m, the final factor, in [0, 1].</param>
    /// <exception cref="ArgumentOutOfRangeException">A count or factor is out of range.</exception>
    public WarmupCosineSchedule(long warmupSteps, long totalSteps, double warmupStartFactor = 0, double minFactor = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps);
        CheckSteps(totalSteps, nameof(totalSteps));
        if (totalSteps <= warmupSteps)
            throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, $"The total steps must exceed the {warmupSteps} warm-up steps.");
        if (!(warmupStartFactor >= 0 && warmupStartFactor <= 1))
            throw new ArgumentOutOfRangeException(nameof(warmupStartFactor), warmupStartFactor, "The warm-up start factor must lie in [0, 1].");
        if (!(minFactor >= 0 && minFactor <= 1))
            throw new ArgumentOutOfRangeException(nameof(minFactor), minFactor, "The minimum factor must lie in [0, 1].");
        WarmupSteps = warmupSteps;
        TotalSteps = totalSteps;
        WarmupStartFactor = warmupStartFactor;
        MinFactor = minFactor;
    }

    /// <summary>w, steps of linear warm-up.</summary>
    public long WarmupSteps { get; }

    /// <summary>T, the step at which the cosine reaches its floor.</summary>
    public long TotalSteps { get; }

    /// <summary>s, the factor at step 0.</summary>
    public double WarmupStartFactor { get; }

    /// <summary>m, the final factor.</summary>
    public double MinFactor { get; }

    /// <inheritdoc />
    public override double LearningRate(double baseLearningRate, long step)
    {
        CheckStep(step);
        if (step < WarmupSteps)
            return baseLearningRate * (WarmupStartFactor + (1 - WarmupStartFactor) * step / WarmupSteps);
        double progress = Math.Min(1.0, (double)(step - WarmupSteps) / (TotalSteps - WarmupSteps));
        return baseLearningRate * CosineAnneal(1, MinFactor, progress);
    }
}
