namespace DeepRetrieval.Torch.Training;

/// <summary>Step decay, as PyTorch's <c>StepLR</c>: the rate is the base rate times γ^⌊t / stepSize⌋.</summary>
public sealed class StepSchedule : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="stepSize">Steps between decays.</param>
    /// <param name="gamma">γ, the decay factor, in (0, 1].</param>
    /// <exception cref="ArgumentOutOfRangeException">stepSize is not positive or γ is outside (0, 1].</exception>
    public StepSchedule(long stepSize, double gamma = 0.1)
    {
        CheckSteps(stepSize, nameof(stepSize));
        if (!(gamma > 0 && gamma <= 1)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "γ must lie in (0, 1].");
        StepSize = stepSize;
        Gamma = gamma;
    }

    /// <summary>Steps between decays.</summary>
    public long StepSize { get; }

    /// <summary>γ, the decay factor.</summary>
    public double Gamma { get; }

    /// <inheritdoc />
    public override double LearningRate(double baseLearningRate, long step)
    {
        CheckStep(step);
        return baseLearningRate * Math.Pow(Gamma, step / StepSize);
    }
}
