using DeepRetrieval.Torch.Miners;

namespace DeepRetrieval.Torch.Training;

/// <summary>Configures <see cref="TwoStageRecipe"/>; <see cref="Common"/> supplies everything the two stages share.</summary>
public sealed record TwoStageOptions
{
    /// <summary>Shared settings: batch size or sampler, seed, validation batch, clipping, early stopping, logging, progress, transforms.
    /// Its epochs, optimiser, learning rates, schedule, miner and checkpoint path are replaced per stage.</summary>
    public TrainerOptions Common { get; init; } = new();

    /// <summary>Epochs of stage 1 (frozen backbone, Adam, the softmax-family loss).</summary>
    public int FrozenEpochs { get; init; } = 5;

    /// <summary>Adam's learning rate in stage 1 (head and pooling).</summary>
    public double FrozenLearningRate { get; init; } = 1e-3;

    /// <summary>Learning rate of the stage-1 loss's class weights; null uses <see cref="FrozenLearningRate"/>.</summary>
    public double? FrozenLossLearningRate { get; init; }

    /// <summary>Epochs of stage 2 (whole network, SGD, triplet loss with a miner).</summary>
    public int FineTuneEpochs { get; init; } = 10;

    /// <summary>SGD's learning rate in stage 2.</summary>
    public double FineTuneLearningRate { get; init; } = 1e-3;

    /// <summary>SGD's momentum in stage 2.</summary>
    public double FineTuneMomentum { get; init; } = 0.9;

    /// <summary>SGD's weight decay in stage 2.</summary>
    public double FineTuneWeightDecay { get; init; } = 1e-4;

    /// <summary>Stage 2's triplet margin (normalised Euclidean distance).</summary>
    public double TripletMargin { get; init; } = 0.1;

    /// <summary>Stage 2's miner; null uses batch-hard mining.</summary>
    public IMiner? FineTuneMiner { get; init; }

    /// <summary>Keep batch-norm statistics frozen in stage 2 (advisable with small or class-pure P × K batches).</summary>
    public bool FreezeBatchNormWhenFineTuning { get; init; }

    /// <summary>Checkpoint file prefix: stage checkpoints go to <c>prefix.stage1</c> and <c>prefix.stage2</c>; null for none.</summary>
    public string? CheckpointPrefix { get; init; }

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Common, nameof(Common));
        ArgumentOutOfRangeException.ThrowIfNegative(FrozenEpochs, nameof(FrozenEpochs));
        ArgumentOutOfRangeException.ThrowIfNegative(FineTuneEpochs, nameof(FineTuneEpochs));
        if (FrozenEpochs + FineTuneEpochs == 0) throw new ArgumentException("The recipe needs at least one epoch.", nameof(FrozenEpochs));
        if (!(TripletMargin >= 0) || double.IsInfinity(TripletMargin))
            throw new ArgumentOutOfRangeException(nameof(TripletMargin), TripletMargin, "The triplet margin must be non-negative and finite.");
    }
}
