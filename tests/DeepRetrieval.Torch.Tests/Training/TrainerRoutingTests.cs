using DeepRetrieval.Torch.Losses;
using DeepRetrieval.Torch.Miners;
using DeepRetrieval.Torch.Models;
using DeepRetrieval.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;
using static DeepRetrieval.Torch.Tests.Training.TrainingTestKit;

namespace DeepRetrieval.Torch.Tests.Training;

/// <summary>Which feature and which tuples each part of the loss receives, and the checks made before training starts.</summary>
public sealed class TrainerRoutingTests
{
    private static RetrievalModel BNNeckModel(int dimension = 6, Metric metric = Metric.Cosine) =>
        new(RetrievalModelConfig.For("small_cnn", dimension) with { Head = "bnneck", InputChannels = 1, Metric = metric }, seed: 1);

    [Fact]
    public void BNNeck_MetricLossesGetTheFeatureBeforeTheNeck_ClassificationLossesTheFeatureAfterIt()
    {
        using var scope = NewDisposeScope();
        using var data = Images(16, 4, 31);
        var model = BNNeckModel();
        var metric = new RecordingMetricLoss();
        var classifier = new RecordingClassifierLoss(4, 6);
        // Learning rate 0 keeps the weights, so the features can be recomputed after the step.
        using (var trainer = new EmbeddingTrainer(model, new WeightedLossSum((metric, 1.0), (classifier, 0.5)), new TrainerOptions { Epochs = 1, BatchSize = 16, LearningRate = 0 }))
            trainer.Fit(data);

        metric.Embeddings.Should().ContainSingle();
        classifier.Embeddings.Should().ContainSingle();
        // The step saw all 16 images in a shuffled order; training-mode batch norm depends on the batch but not its order.
        model.train();
        var (before, after) = model.ForwardBoth(data.Gather(arange(16, dtype: ScalarType.Int64)).Images);
        Tensor order = cdist(metric.Embeddings[0], before).argmin(1);
        order.unique().output.shape[0].Should().Be(16, "every received row is one image's feature");
        metric.Embeddings[0].allclose(before.index_select(0, order), rtol: 1e-4, atol: 1e-5).Should().BeTrue("the metric loss gets the feature before the neck");
        classifier.Embeddings[0].allclose(after.index_select(0, order), rtol: 1e-4, atol: 1e-5).Should().BeTrue("the classification loss gets the feature after the neck");
        (metric.Embeddings[0] - classifier.Embeddings[0]).abs().max().item<float>().Should().BeGreaterThan(0.1f, "the two features differ");
    }

    [Fact]
    public void Miner_FeedsTheMetricPartOfAWeightedSum_WithTuplesMinedOnTheFeatureBeforeTheNeck()
    {
        using var scope = NewDisposeScope();
        using var data = Images(16, 4, 32);
        var miner = new RecordingMiner(new BatchHardMiner());
        var metric = new RecordingMetricLoss();
        var classifier = new RecordingClassifierLoss(4, 6);
        using (var trainer = new EmbeddingTrainer(BNNeckModel(), new WeightedLossSum((metric, 1.0), (classifier, 1.0)),
            new TrainerOptions { Epochs = 1, BatchSize = 8, LearningRate = 0, Miner = miner }))
            trainer.Fit(data);

        miner.Calls.Should().HaveCount(2, "one mining per step, for the metric loss only");
        metric.Tuples.Should().HaveCount(2);
        for (int step = 0; step < 2; step++)
        {
            metric.Tuples[step].Should().BeSameAs(miner.Calls[step].Tuples);
            miner.Calls[step].HasReference.Should().BeFalse();
            miner.Calls[step].Embeddings.allclose(metric.Embeddings[step]).Should().BeTrue("mining sees the metric feature");
        }
    }

    [Fact]
    public void Miner_OfTheOptions_MinesAgainstTheMemory_OfACrossBatchMemoryWithoutItsOwn()
    {
        using var scope = NewDisposeScope();
        using var data = Images(16, 4, 33);
        var miner = new RecordingMiner(new BatchHardMiner());
        using var memory = new CrossBatchMemory(new TripletMarginLoss(), embeddingSize: 4, memorySize: 16);
        using (var trainer = new EmbeddingTrainer(LinearModel(), memory, new TrainerOptions { Epochs = 1, BatchSize = 8, LearningRate = 0.01, Miner = miner }))
            trainer.Fit(data);

        miner.Calls.Should().HaveCount(2).And.OnlyContain(c => c.HasReference, "the memory is the reference set");
        memory.IsFilled.Should().BeTrue();
    }

    [Fact]
    public void CrossBatchMemory_IsRejected_WithMixingSamOrASecondMiner()
    {
        using var scope = NewDisposeScope();
        using var memory = new CrossBatchMemory(new ContrastiveLoss(), 4, 16, miner: new BatchHardMiner());
        FluentActions.Invoking(() => new EmbeddingTrainer(LinearModel(), memory, new TrainerOptions { Mixer = new FixedLabelMixer(0.5) }))
            .Should().Throw<ArgumentException>().WithMessage("*enqueue the batch twice*");
        FluentActions.Invoking(() => new EmbeddingTrainer(LinearModel(), memory, new TrainerOptions { SamRho = 0.05 }))
            .Should().Throw<ArgumentException>().WithMessage("*enqueue the batch twice*");
        FluentActions.Invoking(() => new EmbeddingTrainer(LinearModel(), new WeightedLossSum((memory, 1.0)), new TrainerOptions { Miner = new MultiSimilarityMiner() }))
            .Should().Throw<ArgumentException>().WithMessage("*own miner*one place*");
    }

    [Fact]
    public void RestoreBestWeights_WorksWithoutEarlyStopping()
    {
        using var scope = NewDisposeScope();
        using var train = Images(16, 4, 6);
        using var validation = Images(12, 3, 7);
        TrainingHistory Run(bool restore, out nn.Module<Tensor, Tensor> model)
        {
            model = LinearModel();
            // Every update pulls all embeddings towards one point, so retrieval gets worse after the first epoch.
            var loss = new FunctionLoss((e, _) => e.pow(2).sum());
            using var trainer = new EmbeddingTrainer(model, loss, new TrainerOptions
            {
                Epochs = 4, BatchSize = 8, LearningRate = 0.5, Optimizer = OptimizerKind.Sgd, Momentum = 0, RestoreBestWeights = restore,
            });
            return trainer.Fit(train, validation);
        }

        var history = Run(restore: true, out var restored);
        double best = history.Epochs.Max(e => e.MapAtR);
        history.Epochs[^1].MapAtR.Should().BeLessThan(best, "the run must end worse than its best epoch for the test to mean anything");
        EmbeddingValidation.Evaluate(restored, validation).MapAtR.Should().BeApproximately(best, 1e-9, "the best epoch's weights are back");

        var plain = Run(restore: false, out var last);
        EmbeddingValidation.Evaluate(last, validation).MapAtR.Should().BeApproximately(plain.Epochs[^1].MapAtR, 1e-9, "without restoring, the last weights stay");
    }

    [Fact]
    public void CheckpointPath_InAMissingFolder_IsCreated()
    {
        using var scope = NewDisposeScope();
        using var data = Images(8, 2, 34);
        string root = Path.Combine(Path.GetTempPath(), $"ckpt-{Guid.NewGuid():N}");
        try
        {
            string path = Path.Combine(root, "run", "nested", "checkpoint.bin");
            using var trainer = new EmbeddingTrainer(LinearModel(), new TripletMarginLoss(), new TrainerOptions { Epochs = 1, BatchSize = 8, CheckpointPath = path });
            trainer.Fit(data);
            File.Exists(path).Should().BeTrue();
            Directory.GetFiles(Path.GetDirectoryName(path)!).Should().Equal(path);
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void CheckpointPath_ThatCannotBeWritten_FailsBeforeTheFirstStep_AndAFolderIsRejectedAtOnce()
    {
        using var scope = NewDisposeScope();
        using var data = Images(8, 2, 35);
        string blocker = Path.Combine(Path.GetTempPath(), $"ckpt-file-{Guid.NewGuid():N}");
        File.WriteAllText(blocker, "a file where the checkpoint's folder should be");
        try
        {
            var loss = new FunctionLoss((e, _) => e.pow(2).mean());
            using var trainer = new EmbeddingTrainer(LinearModel(), loss, new TrainerOptions { Epochs = 2, BatchSize = 8, CheckpointPath = Path.Combine(blocker, "checkpoint.bin") });
            trainer.Invoking(t => t.Fit(data)).Should().Throw<IOException>();
            loss.Calls.Should().Be(0, "nothing is trained before the checkpoint path is known to work");
            trainer.CompletedEpochs.Should().Be(0);

            FluentActions.Invoking(() => new EmbeddingTrainer(LinearModel(), loss, new TrainerOptions { CheckpointPath = Path.GetTempPath() }))
                .Should().Throw<ArgumentException>().WithMessage("*is a folder*");
            FluentActions.Invoking(() => new EmbeddingTrainer(LinearModel(), loss, new TrainerOptions { CheckpointPath = " " }))
                .Should().Throw<ArgumentException>().WithMessage("*CheckpointPath is empty*");
        }
        finally
        {
            File.Delete(blocker);
        }
    }

    [Fact]
    public void ValidationMetric_ComesFromTheModel_AndAContradictionIsRejected()
    {
        using var scope = NewDisposeScope();
        var model = BNNeckModel(metric: Metric.L2);
        using (var trainer = new EmbeddingTrainer(model, new TripletMarginLoss(), new TrainerOptions()))
            trainer.ValidationMetric.Should().Be(Metric.L2);
        FluentActions.Invoking(() => new EmbeddingTrainer(model, new TripletMarginLoss(), new TrainerOptions { ValidationMetric = Metric.Cosine }))
            .Should().Throw<ArgumentException>().WithMessage("*L2*Cosine*");
        using var plain = new EmbeddingTrainer(LinearModel(), new TripletMarginLoss(), new TrainerOptions { ValidationMetric = Metric.InnerProduct });
        plain.ValidationMetric.Should().Be(Metric.InnerProduct);
    }

    [Fact]
    public void Validation_UsesTheValidationMetric()
    {
        using var scope = NewDisposeScope();
        using var train = Images(16, 4, 36);
        using var validation = Images(24, 3, 37);
        var model = LinearModel();
        using var trainer = new EmbeddingTrainer(model, new TripletMarginLoss(), new TrainerOptions
        {
            Epochs = 1, BatchSize = 8, LearningRate = 0, ValidationMetric = Metric.L2,
        });
        var history = trainer.Fit(train, validation);
        var l2 = EmbeddingValidation.Evaluate(model, validation, metric: Metric.L2);
        var cosine = EmbeddingValidation.Evaluate(model, validation, metric: Metric.Cosine);
        l2.Should().NotBe(cosine, "the test needs metrics that rank differently");
        history.Epochs[0].MapAtR.Should().Be(l2.MapAtR);
        history.Epochs[0].PrecisionAt1.Should().Be(l2.PrecisionAt1);
    }
}
