namespace DeepRetrieval.Torch.Training;

/// <summary>One epoch of training. Validation metrics are NaN when the epoch was not validated.</summary>
/// <param name="Epoch">The epoch number, from 1.</param>
/// <param name="TrainLoss">Mean loss over the epoch's finite steps (NaN when every step was skipped).</param>
/// <param name="LearningRate">The first parameter group's learning rate at the epoch's last step.</param>
/// <param name="ImagesPerSecond">Training images per second of wall time (validation excluded).</param>
/// <param name="SkippedSteps">Steps skipped because the loss or a gradient was NaN or infinite.</param>
/// <param name="PrecisionAt1">Validation Precision@1.</param>
/// <param name="MapAtR">Validation MAP@R.</param>
/// <param name="RPrecision">Validation R-Precision.</param>
/// <param name="Seconds">Wall time of the epoch including validation.</param>
public sealed record EpochRecord(
    int Epoch,
    double TrainLoss,
    double LearningRate,
    double ImagesPerSecond,
    int SkippedSteps,
    double PrecisionAt1,
    double MapAtR,
    double RPrecision,
    double Seconds);
