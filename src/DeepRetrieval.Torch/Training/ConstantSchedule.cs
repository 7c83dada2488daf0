namespace DeepRetrieval.Torch.Training;

/// <summary>Keeps every group at its base learning rate.</summary>
public sealed class ConstantSchedule : LearningRateSchedule
{
    /// <inheritdoc />
    public override double LearningRate(double baseLearningRate, long step)
    {
        CheckStep(step);
        return baseLearningRate;
    }
}
