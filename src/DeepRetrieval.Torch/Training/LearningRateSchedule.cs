namespace DeepRetrieval.Torch.Training;

/// <summary>
/// A learning-rate schedule evaluated per optimiser step: the learning rate of a parameter group at step t (0 for the first
/// batch, as PyTorch's schedulers before their first <c>step()</c>) is a function of the group's base learning rate and t, so
/// groups with different base rates (a loss's class weights, say) follow the same curve. Schedules are plain objects whose
/// whole state is a few numbers (<see cref="SaveState"/>), which is what makes checkpoints resume exactly.
/// </summary>
public abstract class LearningRateSchedule
{
    /// <summary>The learning rate of a group at a step.</summary>
    /// <param name="baseLearningRate">The group's base (for one-cycle: maximum) learning rate.</param>
    /// <param name="step">Optimiser steps taken before this one (0-based).</param>
    public abstract double LearningRate(double baseLearningRate, long step);

    /// <summary>
    /// The momentum at <paramref name="step"/> (SGD's momentum, β₁ of Adam and AdamW), or null to leave the optimiser's own;
    /// only schedules that cycle momentum (<see cref="OneCycleSchedule"/>) return a value.
    /// </summary>
    /// <param name="step">The optimiser step, from 0.</param>
    public virtual double? Momentum(long step) => null;

    /// <summary>Called by the trainer after each epoch's validation with the monitored metric; only metric-driven schedules use it.</summary>
    /// <param name="metric">The validation metric (MAP@R), or NaN when there was no validation.</param>
    public virtual void ReportEpoch(double metric)
    {
    }

    /// <summary>The schedule's mutable state, for checkpoints; empty for schedules that are pure functions of the step.</summary>
    public virtual double[] SaveState() => [];

    /// <summary>Restores what <see cref="SaveState"/> returned.</summary>
    /// <param name="state">The saved state.</param>
    /// <exception cref="ArgumentException">The state has the wrong length.</exception>
    public virtual void LoadState(double[] state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Length != 0)
            throw new ArgumentException($"{GetType().Name} has no state, but {state.Length} values were given.", nameof(state));
    }

    /// <summary>Cosine annealing from <paramref name="start"/> (p = 0) to <paramref name="end"/> (p = 1): <c>end + (start − end)·(1 + cos πp) / 2</c>.</summary>
    private protected static double CosineAnneal(double start, double end, double pct) => end + (start - end) / 2.0 * (Math.Cos(Math.PI * pct) + 1);

    private protected static void CheckSteps(long steps, string name)
    {
        if (steps <= 0) throw new ArgumentOutOfRangeException(name, steps, "The number of steps must be positive.");
    }

    private protected static void CheckStep(long step)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), step, "The step must not be negative.");
    }
}
