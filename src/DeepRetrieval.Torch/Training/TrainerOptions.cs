using DeepRetrieval.Torch.Augmentation;
using DeepRetrieval.Torch.Miners;
using DeepRetrieval.Torch.Samplers;
using Microsoft.Extensions.Logging;

namespace DeepRetrieval.Torch.Training;

/// <summary>Everything that configures an <see cref="EmbeddingTrainer"/>; the defaults train with Adam at 1e-3 for 10 epochs.</summary>
public sealed record TrainerOptions
{
    /// <summary>Total epochs; a resumed trainer continues until this many are done.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Images per batch when no <see cref="Sampler"/> is given (the sampler's own batch size otherwise).</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Drop the last, incomplete batch of a shuffled epoch (metric losses need full batches).</summary>
    public bool DropLast { get; init; } = true;

    /// <summary>A batch sampler (MPerClassSampler, ClassBalancedSampler) built over the training labels; null shuffles with <see cref="Seed"/>.</summary>
    public IndexBatchSampler? Sampler { get; init; }

    /// <summary>Seed of the trainer's generator: shuffling, batch transforms and mixing.</summary>
    public long Seed { get; init; }

    /// <summary>The base optimiser.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;

    /// <summary>Learning rate of the model's parameters (the maximum rate under <see cref="OneCycleSchedule"/>).</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Weight decay of the model's parameters (L2 for SGD and Adam, decoupled for AdamW).</summary>
    public double WeightDecay { get; init; }

    /// <summary>Learning rate of the loss's own parameters (class weights of ArcFace and kin); null uses <see cref="LearningRate"/>.</summary>
    public double? LossLearningRate { get; init; }

    /// <summary>Weight decay of the loss's own parameters.</summary>
    public double LossWeightDecay { get; init; }

    /// <summary>SGD momentum.</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>SGD Nesterov momentum.</summary>
    public bool Nesterov { get; init; }

    /// <summary>Adam's β₁.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>Adam's β₂.</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>The learning-rate schedule, evaluated every step; null keeps the rates constant.</summary>
    public LearningRateSchedule? Schedule { get; init; }

    /// <summary>Clip the global gradient L2 norm to this value; null for no clipping.</summary>
    public double? MaxGradientNorm { get; init; }

    /// <summary>SAM's ρ; 0 trains without SAM.</summary>
    public double SamRho { get; init; }

    /// <summary>Use adaptive SAM (ASAM).</summary>
    public bool SamAdaptive { get; init; }

    /// <summary>First epoch (from 1) whose final weights enter the stochastic weight average; null disables SWA.</summary>
    public int? SwaStartEpoch { get; init; }

    /// <summary>
    /// Batch augmentation applied to the normalised float images (<see cref="RandomResizedCrop"/>, <see cref="Compose"/>, ...),
    /// drawing randomness from the trainer's generator, which checkpoints save.
    /// </summary>
    public IBatchTransform? BatchTransform { get; init; }

    /// <summary>Mixup or cutmix applied after <see cref="BatchTransform"/>; the loss becomes λ·L(y_a) + (1 − λ)·L(y_b) (<see cref="MixedBatch.Combine"/>).</summary>
    public IBatchMixer? Mixer { get; init; }

    /// <summary>
    /// A miner whose tuples feed the metric losses: every <c>MetricLoss</c> that is not a classification loss (inside a
    /// <c>WeightedLossSum</c> too) mines on the feature before the BN neck, and a <c>CrossBatchMemory</c> without its own miner
    /// mines with it against its memory. Classification losses get no tuples.
    /// </summary>
    public IMiner? Miner { get; init; }

    /// <summary>Images per forward pass when embedding the validation set.</summary>
    public int ValidationBatchSize { get; init; } = 256;

    /// <summary>
    /// How validation compares embeddings, for models that do not state it; null uses the cosine. A model that is an
    /// <see cref="IEmbeddingModel"/> (a <c>RetrievalModel</c>) decides itself, and a different value here is rejected.
    /// </summary>
    public Metric? ValidationMetric { get; init; }

    /// <summary>Stop after this many epochs without a MAP@R improvement; null never stops early.</summary>
    public int? EarlyStoppingPatience { get; init; }

    /// <summary>The improvement of MAP@R that counts.</summary>
    public double EarlyStoppingMinDelta { get; init; }

    /// <summary>
    /// At the end of training, load the weights of the epoch with the best validation MAP@R, with or without early stopping
    /// (nothing happens without a validation set; ignored under SWA, whose average replaces it).
    /// </summary>
    public bool RestoreBestWeights { get; init; } = true;

    /// <summary>
    /// File the checkpoint is written to (atomically, replacing the previous one); null for no checkpoints. A missing folder is
    /// created, and a path that cannot be written is reported, when <c>Fit</c> starts, before any training.
    /// </summary>
    public string? CheckpointPath { get; init; }

    /// <summary>Write a checkpoint every this many epochs (and after the last).</summary>
    public int CheckpointEvery { get; init; } = 1;

    /// <summary>Receives a report after every step.</summary>
    public IProgress<TrainingProgress>? Progress { get; init; }

    /// <summary>Receives epoch summaries (information) and skipped steps (warnings).</summary>
    public ILogger? Logger { get; init; }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Epochs, nameof(Epochs));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BatchSize, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ValidationBatchSize, nameof(ValidationBatchSize));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(CheckpointEvery, nameof(CheckpointEvery));
        CheckRate(LearningRate, nameof(LearningRate));
        if (LossLearningRate is { } lossRate) CheckRate(lossRate, nameof(LossLearningRate));
        CheckRate(WeightDecay, nameof(WeightDecay));
        CheckRate(LossWeightDecay, nameof(LossWeightDecay));
        CheckRate(Momentum, nameof(Momentum));
        CheckRate(SamRho, nameof(SamRho));
        if (Nesterov && Momentum <= 0) throw new ArgumentException("Nesterov momentum needs a positive momentum.", nameof(Nesterov));
        if (!(Beta1 >= 0 && Beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(Beta1), Beta1, "β₁ must lie in [0, 1).");
        if (!(Beta2 >= 0 && Beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(Beta2), Beta2, "β₂ must lie in [0, 1).");
        if (MaxGradientNorm is { } norm && !(norm > 0 && double.IsFinite(norm)))
            throw new ArgumentOutOfRangeException(nameof(MaxGradientNorm), norm, "The maximum gradient norm must be positive and finite.");
        if (SwaStartEpoch is { } swa) ArgumentOutOfRangeException.ThrowIfNegativeOrZero(swa, nameof(SwaStartEpoch));
        if (EarlyStoppingPatience is { } patience) ArgumentOutOfRangeException.ThrowIfNegativeOrZero(patience, nameof(EarlyStoppingPatience));
        CheckRate(EarlyStoppingMinDelta, nameof(EarlyStoppingMinDelta));
        if (ValidationMetric is { } metric && !Enum.IsDefined(metric))
            throw new ArgumentOutOfRangeException(nameof(ValidationMetric), metric, "Unknown metric.");
        if (CheckpointPath is not null)
        {
            if (string.IsNullOrWhiteSpace(CheckpointPath))
                throw new ArgumentException("CheckpointPath is empty; give a file path or null for no checkpoints.", nameof(CheckpointPath));
            string full;
            try
            {
                full = Path.GetFullPath(CheckpointPath);
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
            {
                throw new ArgumentException($"CheckpointPath '{CheckpointPath}' is not a valid path: {e.Message}", nameof(CheckpointPath), e);
            }
            if (Directory.Exists(full))
                throw new ArgumentException($"CheckpointPath '{CheckpointPath}' is a folder; give the checkpoint file's path.", nameof(CheckpointPath));
        }
    }

    private static void CheckRate(double value, string name)
    {
        if (!(value >= 0) || double.IsInfinity(value))
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be non-negative and finite.");
    }
}
