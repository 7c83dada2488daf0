namespace DeepRetrieval.Torch.Training;

/// <summary>Reported after every training step through <c>TrainerOptions.Progress</c>.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="Batch">The batch within the epoch, from 1.</param>
/// <param name="BatchCount">Batches in the epoch.</param>
/// <param name="Loss">This step's loss (NaN or infinite when the step was skipped).</param>
/// <param name="LearningRate">The first parameter group's learning rate for this step.</param>
/// <param name="ImagesPerSecond">Images per second since the epoch started.</param>
public sealed record TrainingProgress(int Epoch, int Batch, int BatchCount, double Loss, double LearningRate, double ImagesPerSecond);
