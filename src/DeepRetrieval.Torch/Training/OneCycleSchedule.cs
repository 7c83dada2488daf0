namespace DeepRetrieval.Torch.Training;

/// <summary>
/// The one-cycle policy (Smith and Topin 2019) with PyTorch's <c>OneCycleLR</c> formula (two phases, cosine annealing): each
/// group's base rate is its MAXIMUM rate η; the rate rises from η / <see cref="DivFactor"/> to η over the first
/// ⌊…⌋ <see cref="PctStart"/>·T − 1 steps, then falls to η / (<see cref="DivFactor"/>·<see cref="FinalDivFactor"/>) at step
/// T − 1, both along <c>end + (start − end)·(1 + cos πp) / 2</c>. Steps past T − 1 keep the final rate (PyTorch raises
/// instead). Momentum is cycled the other way, as <c>OneCycleLR(cycle_momentum=True)</c> does: from
/// <see cref="MaxMomentum"/> down to <see cref="BaseMomentum"/> while the rate rises, and back up while it falls (SGD's momentum,
/// β₁ of Adam and AdamW).
/// </summary>
public sealed class OneCycleSchedule : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="totalSteps">T, the number of optimiser steps of the whole run.</param>
    /// <param name="pctStart">Fraction of the steps spent rising, in (0, 1).</param>
    /// <param name="divFactor">Maximum rate / initial rate.</param>
    /// <param name="finalDivFactor">Initial rate / final rate.</param>
    /// <param name="cycleMomentum">Cycle the momentum inversely to the rate (PyTorch's default); false leaves the optimiser's.</param>
    /// <param name="baseMomentum">The momentum at the peak rate.</param>
    /// <param name="maxMomentum">The momentum at the start and the end.</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public OneCycleSchedule(long totalSteps, double pctStart = 0.3, double divFactor = 25, double finalDivFactor = 1e4,
        bool cycleMomentum = true, double baseMomentum = 0.85, double maxMomentum = 0.95)
    {
        if (cycleMomentum && !(baseMomentum >= 0 && baseMomentum <= maxMomentum && maxMomentum < 1))
            throw new ArgumentOutOfRangeException(nameof(baseMomentum), baseMomentum, $"Momentum must satisfy 0 ≤ base ({baseMomentum}) ≤ max ({maxMomentum}) < 1.");
        CheckSteps(totalSteps, nameof(totalSteps));
        if (!(pctStart > 0 && pctStart < 1)) throw new ArgumentOutOfRangeException(nameof(pctStart), pctStart, "pct_start must lie in (0, 1).");
        if (!(divFactor > 0) || double.IsInfinity(divFactor)) throw new ArgumentOutOfRangeException(nameof(divFactor), divFactor, "div_factor must be positive and finite.");
        if (!(finalDivFactor > 0) || double.IsInfinity(finalDivFactor))
            throw new ArgumentOutOfRangeException(nameof(finalDivFactor), finalDivFactor, "final_div_factor must be positive and finite.");
        double rampEnd = pctStart * totalSteps - 1;
        if (!(rampEnd > 0 && rampEnd < totalSteps - 1))
            throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, $"{totalSteps} steps with pct_start {pctStart} leave an empty phase.");
        TotalSteps = totalSteps;
        PctStart = pctStart;
        DivFactor = divFactor;
        FinalDivFactor = finalDivFactor;
        CycleMomentum = cycleMomentum;
        BaseMomentum = baseMomentum;
        MaxMomentum = maxMomentum;
    }

    /// <summary>Whether momentum is cycled inversely to the rate.</summary>
    public bool CycleMomentum { get; }

    /// <summary>The momentum at the peak rate.</summary>
    public double BaseMomentum { get; }

    /// <summary>The momentum at the start and the end.</summary>
    public double MaxMomentum { get; }

    /// <summary>T, the number of optimiser steps of the whole run.</summary>
    public long TotalSteps { get; }

    /// <summary>Fraction of the steps spent rising.</summary>
    public double PctStart { get; }

    /// <summary>Maximum rate / initial rate.</summary>
    public double DivFactor { get; }

    /// <summary>Initial rate / final rate.</summary>
    public double FinalDivFactor { get; }

    /// <inheritdoc />
    public override double LearningRate(double baseLearningRate, long step)
    {
        double initial = baseLearningRate / DivFactor;
        return Phase(step, initial, baseLearningRate, initial / FinalDivFactor);
    }

    /// <inheritdoc />
    public override double? Momentum(long step) => CycleMomentum ? Phase(step, MaxMomentum, BaseMomentum, MaxMomentum) : null;

    // Anneals start → peak over the first phase and peak → end over the second. PyTorch's phase ends are floats:
    // float(pct_start * total_steps) - 1 and total_steps - 1.
    private double Phase(long step, double start, double peak, double end)
    {
        CheckStep(step);
        double rampEnd = PctStart * TotalSteps - 1;
        double lastStep = TotalSteps - 1;
        double t = Math.Min(step, lastStep);
        return t <= rampEnd
            ? CosineAnneal(start, peak, t / rampEnd)
            : CosineAnneal(peak, end, (t - rampEnd) / (lastStep - rampEnd));
    }
}
