using DeepRetrieval.Torch.Backbones;
using DeepRetrieval.Torch.Data;
using DeepRetrieval.Torch.Losses;
using DeepRetrieval.Torch.Miners;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Training;

/// <summary>
/// The two-stage fine-tuning recipe. Stage 1 freezes the whole backbone (<see cref="Backbone.FreezeStages(int)"/> with every
/// stage) and trains the rest of the model (pooling, head) with Adam and a softmax-family loss (ArcFace, CosFace, normalised
/// softmax...), so the new head and the class weights settle without wrecking pretrained features. Stage 2 unfreezes everything
/// and fine-tunes with SGD and <see cref="TripletMarginLoss"/> on mined triplets, which optimises the ranking directly.
/// Both stages run an <see cref="EmbeddingTrainer"/> and are recorded in one history (stage 2's epochs numbered after stage 1's).
/// </summary>
public static class TwoStageRecipe
{
    /// <summary>Runs both stages.</summary>
    /// <param name="backbone">The backbone inside <paramref name="model"/>, whose stages are frozen in stage 1.</param>
    /// <param name="model">The whole embedding model (backbone, pooling, head).</param>
    /// <param name="frozenStageLoss">Stage 1's loss, typically a softmax-family loss with class weights.</param>
    /// <param name="train">Training images.</param>
    /// <param name="validation">Validation images, or null.</param>
    /// <param name="options">The recipe's settings.</param>
    /// <returns>Both stages' epochs.</returns>
    /// <exception cref="ArgumentException">The backbone is not part of the model, a set has no labels, or an option is out of range.</exception>
    public static TrainingHistory Run(Backbone backbone, nn.Module<Tensor, Tensor> model, MetricLoss frozenStageLoss,
        ITrainingImageSource train, ITrainingImageSource? validation, TwoStageOptions options)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(frozenStageLoss);
        EmbeddingTrainer.RequireLabels(train, nameof(train));
        if (validation is not null) EmbeddingTrainer.RequireLabels(validation, nameof(validation));
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var modelParameters = model.parameters().Select(p => p.Handle).ToHashSet();
        if (!backbone.parameters().All(p => modelParameters.Contains(p.Handle)))
            throw new ArgumentException("The backbone's parameters are not all part of the model.", nameof(backbone));

        var history = new List<EpochRecord>();
        if (options.FrozenEpochs > 0)
        {
            backbone.FreezeStages(backbone.Stages.Count);
            var stage1 = options.Common with
            {
                Epochs = options.FrozenEpochs,
                Optimizer = OptimizerKind.Adam,
                LearningRate = options.FrozenLearningRate,
                LossLearningRate = options.FrozenLossLearningRate,
                Miner = null,
                Schedule = null,
                CheckpointPath = options.CheckpointPrefix is null ? null : options.CheckpointPrefix + ".stage1",
            };
            using var trainer = new EmbeddingTrainer(model, frozenStageLoss, stage1);
            history.AddRange(trainer.Fit(train, validation).Epochs);
        }
        if (options.FineTuneEpochs > 0)
        {
            backbone.Unfreeze();
            backbone.FreezeBatchNorm(options.FreezeBatchNormWhenFineTuning);
            var stage2 = options.Common with
            {
                Epochs = options.FineTuneEpochs,
                Optimizer = OptimizerKind.Sgd,
                LearningRate = options.FineTuneLearningRate,
                Momentum = options.FineTuneMomentum,
                WeightDecay = options.FineTuneWeightDecay,
                Miner = options.FineTuneMiner ?? new BatchHardMiner(),
                Schedule = null,
                CheckpointPath = options.CheckpointPrefix is null ? null : options.CheckpointPrefix + ".stage2",
            };
            using var triplet = new TripletMarginLoss(options.TripletMargin);
            using var trainer = new EmbeddingTrainer(model, triplet, stage2);
            int offset = history.Count;
            history.AddRange(trainer.Fit(train, validation).Epochs.Select(e => e with { Epoch = e.Epoch + offset }));
        }
        return new TrainingHistory(history);
    }
}
