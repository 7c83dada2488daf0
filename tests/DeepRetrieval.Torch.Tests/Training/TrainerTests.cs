using DeepRetrieval.Torch.Augmentation;
using DeepRetrieval.Torch.Backbones;
using DeepRetrieval.Torch.Data;
using DeepRetrieval.Torch.Losses;
using DeepRetrieval.Torch.Miners;
using DeepRetrieval.Torch.Samplers;
using DeepRetrieval.Torch.Training;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;
using static DeepRetrieval.Torch.Tests.Training.TrainingTestKit;

namespace DeepRetrieval.Torch.Tests.Training;

public sealed class TrainerTests
{
    [Fact]
    public void GradientClipping_LimitsTheStepToLearningRateTimesMaxNorm()
    {
        using var scope = NewDisposeScope();
        using var data = Images(8, 2, 3);
        var model = LinearModel();
        var before = Snapshot(model);
        // d(loss)/dw is huge, so the clipped gradient has norm exactly 1 and plain SGD with lr 1 moves the weights by 1.
        var loss = new FunctionLoss((e, _) => e.sum() * 1000);
        using var trainer = new EmbeddingTrainer(model, loss, new TrainerOptions
        {
            Epochs = 1, BatchSize = 8, Optimizer = OptimizerKind.Sgd, Momentum = 0, LearningRate = 1, MaxGradientNorm = 1,
        });
        trainer.Fit(data);
        var after = Snapshot(model);
        double squared = before.Keys.Sum(k => (after[k] - before[k]).pow(2).sum().item<float>());
        Math.Sqrt(squared).Should().BeApproximately(1.0, 1e-4);
    }

    [Fact]
    public void NanGuard_SkipsTheStep_CountsAndLogsIt_AndLeavesTheWeightsUntouched()
    {
        using var scope = NewDisposeScope();
        using var data = Images(24, 3, 4);
        var model = LinearModel();
        var before = Snapshot(model);
        var loss = new FunctionLoss((e, _) => e.sum() * double.NaN);
        var logger = new ListLogger();
        using var trainer = new EmbeddingTrainer(model, loss, new TrainerOptions { Epochs = 1, BatchSize = 8, LearningRate = 0.1, Logger = logger });
        var history = trainer.Fit(data);
        trainer.SkippedSteps.Should().Be(3);
        history.Epochs[0].SkippedSteps.Should().Be(3);
        history.Epochs[0].TrainLoss.Should().Be(double.NaN);
        logger.Entries.Count(e => e.Level == LogLevel.Warning).Should().Be(3);
        var after = Snapshot(model);
        foreach (var key in before.Keys) after[key].eq(before[key]).all().item<bool>().Should().BeTrue(key);
        model.parameters().All(p => p.grad is null || p.grad.abs().sum().item<float>() == 0).Should().BeTrue();
    }

    [Fact]
    public void NanGuard_SkipsOnlyTheBadStep_AndTrainingContinues()
    {
        using var scope = NewDisposeScope();
        using var data = Images(24, 3, 4);
        var model = LinearModel();
        int call = 0;
        var loss = new FunctionLoss((e, _) => ++call == 2 ? e.sum() * double.PositiveInfinity : e.pow(2).mean());
        using var trainer = new EmbeddingTrainer(model, loss, new TrainerOptions { Epochs = 1, BatchSize = 8, LearningRate = 0.01 });
        var history = trainer.Fit(data);
        history.Epochs[0].SkippedSteps.Should().Be(1);
        double.IsFinite(history.Epochs[0].TrainLoss).Should().BeTrue();
        model.parameters().All(p => p.isfinite().all().item<bool>()).Should().BeTrue();
    }

    [Fact]
    public void Mixing_CombinesTheLossesOfBothLabelSets_WithLambda()
    {
        using var scope = NewDisposeScope();
        using var data = Images(8, 2, 5);
        var progress = new ProgressLog();
        // The loss is the mean label, so λ·L(zeros) + (1 − λ)·L(ones) = 1 − λ = 0.75.
        var loss = new FunctionLoss((e, y) => y.to(ScalarType.Float32).mean() + e.sum() * 0);
        using var trainer = new EmbeddingTrainer(LinearModel(), loss, new TrainerOptions
        {
            Epochs = 1, BatchSize = 8, Progress = progress,
            Mixer = new FixedLabelMixer(0.25),
        });
        trainer.Fit(data);
        progress.Reports.Should().ContainSingle().Which.Loss.Should().BeApproximately(0.75, 1e-6);
    }

    [Fact]
    public void EarlyStopping_StopsAfterPatienceEpochsWithoutImprovement()
    {
        using var scope = NewDisposeScope();
        using var train = Images(16, 4, 6);
        using var validation = Images(12, 3, 7);
        // Learning rate 0: MAP@R never changes, so epochs 2 and 3 are the two bad epochs.
        using var trainer = new EmbeddingTrainer(LinearModel(), new TripletMarginLoss(), new TrainerOptions
        {
            Epochs = 10, BatchSize = 8, LearningRate = 0, EarlyStoppingPatience = 2,
        });
        var history = trainer.Fit(train, validation);
        history.Epochs.Should().HaveCount(3);
        trainer.StoppedEarly.Should().BeTrue();
        history.Epochs.Select(e => e.MapAtR).Distinct().Should().ContainSingle();
    }

    [Fact]
    public void EarlyStopping_RestoresTheWeightsOfTheBestEpoch()
    {
        using var scope = NewDisposeScope();
        using var train = Images(16, 4, 6);
        using var validation = Images(12, 3, 7);
        var model = LinearModel();
        var initial = Snapshot(model);
        // Make every update destroy retrieval after the first validation: the loss pulls all embeddings to one point.
        var loss = new FunctionLoss((e, _) => e.pow(2).sum());
        using var trainer = new EmbeddingTrainer(model, loss, new TrainerOptions
        {
            Epochs = 4, BatchSize = 8, LearningRate = 0.5, Optimizer = OptimizerKind.Sgd, Momentum = 0, EarlyStoppingPatience = 10,
        });
        var history = trainer.Fit(train, validation);
        int best = history.Epochs.MaxBy(e => e.MapAtR)!.Epoch;
        trainer.BestMapAtR.Should().Be(history.Epochs.Max(e => e.MapAtR));
        EmbeddingValidation.Evaluate(model, validation).MapAtR.Should().BeApproximately(trainer.BestMapAtR, 1e-9, $"the weights of epoch {best} are back");
        Snapshot(model)["1.weight"].eq(initial["1.weight"]).all().item<bool>().Should().BeFalse();
    }

    [Fact]
    public void Resume_FromACheckpointInANewTrainer_GivesBitIdenticalWeights() => ResumeCore(swa: true, transform: true, validate: true);

    private static void ResumeCore(bool swa, bool transform, bool validate)
    {
        int threads = get_num_threads();
        set_num_threads(1);
        try
        {
            ResumeOnOneThread(swa, transform, validate);
        }
        finally
        {
            set_num_threads(threads);
        }
    }

    private static void ResumeOnOneThread(bool swa, bool transform, bool validate)
    {
        using var scope = NewDisposeScope();
        using var train = Images(48, 4, 8);
        using var validation = Images(12, 3, 9);
        string path = Path.Combine(Path.GetTempPath(), $"resume-{Guid.NewGuid():N}.ckpt");
        try
        {
            TrainerOptions Options(int epochs, string? checkpoint) => new()
            {
                Epochs = epochs, BatchSize = 16, Seed = 11, LearningRate = 0.01, LossLearningRate = 0.1, Optimizer = OptimizerKind.Adam,
                Schedule = new WarmupCosineSchedule(2, 6), CheckpointPath = checkpoint, SwaStartEpoch = swa ? 1 : null,
                BatchTransform = transform ? new GaussianNoise(0.1) : null,
            };
            nn.Module<Tensor, Tensor> Model() => nn.Sequential(new SmallCnn(1, [4, 4, 4, 4, 4]), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 6));
            ArcFaceLoss Loss(nn.Module<Tensor, Tensor, Tensor>? from)
            {
                var l = new ArcFaceLoss(4, 6, scale: 16);
                if (from is not null) CopyWeights(from, l);
                return l;
            }

            var straightModel = Model();
            var straightLoss = Loss(null);
            var resumedModel = Model();
            CopyWeights(straightModel, resumedModel);
            var firstLoss = Loss(straightLoss);
            using (var straight = new EmbeddingTrainer(straightModel, straightLoss, Options(2, null)))
                straight.Fit(train, validate ? validation : null);

            using (var first = new EmbeddingTrainer(resumedModel, firstLoss, Options(1, path)))
                first.Fit(train, validate ? validation : null);
            // A new model, loss and trainer: everything comes from the checkpoint.
            var secondModel = Model();
            var secondLoss = Loss(null);
            using var second = new EmbeddingTrainer(secondModel, secondLoss, Options(2, path));
            second.Resume(path);
            second.CompletedEpochs.Should().Be(1);
            var history = second.Fit(train, validate ? validation : null);
            history.Epochs.Should().HaveCount(2);

            var expected = Snapshot(straightModel);
            var actual = Snapshot(secondModel);
            foreach (var key in expected.Keys) actual[key].eq(expected[key]).all().item<bool>().Should().BeTrue(key);
            Snapshot(secondLoss)["weight"].eq(Snapshot(straightLoss)["weight"]).all().item<bool>().Should().BeTrue();
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Resume_RejectsACorruptOrTruncatedFile_NamingIt()
    {
        using var scope = NewDisposeScope();
        using var data = Images(16, 4, 8);
        string path = Path.Combine(Path.GetTempPath(), $"corrupt-{Guid.NewGuid():N}.ckpt");
        try
        {
            using (var trainer = new EmbeddingTrainer(LinearModel(), new TripletMarginLoss(), new TrainerOptions { Epochs = 1, BatchSize = 8, CheckpointPath = path }))
                trainer.Fit(data);
            using (var wider = new EmbeddingTrainer(LinearModel(dimension: 5), new TripletMarginLoss(), new TrainerOptions { Epochs = 2, BatchSize = 8 }))
                wider.Invoking(t => t.Resume(path)).Should().Throw<InvalidDataException>().WithMessage($"*{path}*");
            byte[] bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
            using var other = new EmbeddingTrainer(LinearModel(), new TripletMarginLoss(), new TrainerOptions { Epochs = 2, BatchSize = 8 });
            other.Invoking(t => t.Resume(path)).Should().Throw<InvalidDataException>().WithMessage($"*{path}*");
            File.WriteAllText(path, "not a checkpoint");
            other.Invoking(t => t.Resume(path)).Should().Throw<InvalidDataException>().WithMessage($"*{path}*");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void LossParameters_GetTheirOwnGroupAndLearningRate()
    {
        using var scope = NewDisposeScope();
        using var trainer = new EmbeddingTrainer(LinearModel(), new ArcFaceLoss(3, 4), new TrainerOptions { LearningRate = 0.01, LossLearningRate = 0.5 });
        trainer.CurrentLearningRates.Should().Equal(0.01, 0.5);
    }

    [Fact]
    public void Sampler_DefinesTheBatches_AndMinedTripletLossLowersOnClusteredData()
    {
        using var scope = NewDisposeScope();
        // Four classes: image = the class's random pattern + noise, so a linear model can separate them.
        using var generator = new Generator(21);
        Tensor labels = arange(64, dtype: ScalarType.Int64).remainder(4);
        Tensor prototypes = randn([4, 1, 8, 8], generator: generator);
        Tensor images = (prototypes.index_select(0, labels) + randn([64, 1, 8, 8], generator: generator) * 0.5).contiguous();
        using var data = new TensorImageSet(images, labels);
        var sampler = new MPerClassSampler(data.Labels!, m: 4, batchSize: 16, lengthBeforeNewIter: 64, seed: 5);
        var progress = new ProgressLog();
        using var trainer = new EmbeddingTrainer(LinearModel(), new TripletMarginLoss(0.2), new TrainerOptions
        {
            Epochs = 6, Sampler = sampler, Miner = new BatchHardMiner(), LearningRate = 0.01, Progress = progress,
        });
        var history = trainer.Fit(data, data);
        progress.Reports.Should().HaveCount(6 * sampler.BatchCount);
        progress.Reports.Should().OnlyContain(r => r.BatchCount == sampler.BatchCount);
        history.Epochs[^1].TrainLoss.Should().BeLessThan(history.Epochs[0].TrainLoss);
        history.Epochs[^1].MapAtR.Should().BeGreaterThan(0.9);
    }

    [Fact]
    public void CrossBatchMemory_CanBeTheLoss()
    {
        using var scope = NewDisposeScope();
        using var data = Images(32, 4, 13);
        using var memory = new CrossBatchMemory(new ContrastiveLoss(), embeddingSize: 4, memorySize: 32);
        using var trainer = new EmbeddingTrainer(LinearModel(), memory, new TrainerOptions { Epochs = 2, BatchSize = 8, LearningRate = 0.01 });
        var history = trainer.Fit(data);
        history.Epochs.Should().OnlyContain(e => double.IsFinite(e.TrainLoss) && e.SkippedSteps == 0);
        memory.IsFilled.Should().BeTrue();
    }

    [Fact]
    public void Resume_RejectsACheckpointWrittenWithAnotherSamplerSeed()
    {
        using var scope = NewDisposeScope();
        using var data = Images(16, 4, 8);
        string path = Path.Combine(Path.GetTempPath(), $"seed-{Guid.NewGuid():N}.ckpt");
        try
        {
            var sampler = new ClassBalancedSampler(data.Labels!, batchSize: 8, seed: 1);
            using (var trainer = new EmbeddingTrainer(LinearModel(), new TripletMarginLoss(), new TrainerOptions { Epochs = 1, Sampler = sampler, CheckpointPath = path }))
                trainer.Fit(data);
            var other = new ClassBalancedSampler(data.Labels!, batchSize: 8, seed: 2);
            using var resumed = new EmbeddingTrainer(LinearModel(), new TripletMarginLoss(), new TrainerOptions { Epochs = 2, Sampler = other });
            resumed.Invoking(t => t.Resume(path)).Should().Throw<InvalidDataException>().WithMessage("*sampler seed 1*");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(OptimizerKind.Adam)]
    [InlineData(OptimizerKind.AdamW)]
    [InlineData(OptimizerKind.Sgd)]
    public void OneCycle_CyclesTheMomentumOfEveryGroup(OptimizerKind optimizer)
    {
        using var scope = NewDisposeScope();
        using var data = Images(24, 3, 14);
        var schedule = new OneCycleSchedule(10); // 6 of its 10 steps run, so the last momentum lies inside the cycle
        using var trainer = new EmbeddingTrainer(LinearModel(), new ArcFaceLoss(3, 4), new TrainerOptions
        {
            Epochs = 1, BatchSize = 4, Optimizer = optimizer, LearningRate = 0.01, Schedule = schedule,
        });
        trainer.Fit(data);
        trainer.StepCount.Should().Be(6);
        double last = schedule.Momentum(5)!.Value;
        last.Should().BeLessThan(0.95).And.BeGreaterThan(0.85);
        trainer.CurrentMomenta.Should().HaveCount(2).And.OnlyContain(m => Math.Abs(m - last) < 1e-12);
    }

    [Fact]
    public void Schedule_SetsEveryGroupsRate_AtEveryStep()
    {
        using var scope = NewDisposeScope();
        using var data = Images(24, 3, 14);
        var progress = new ProgressLog();
        using var trainer = new EmbeddingTrainer(LinearModel(), new ArcFaceLoss(3, 4), new TrainerOptions
        {
            Epochs = 2, BatchSize = 8, LearningRate = 0.1, LossLearningRate = 1, Schedule = new StepSchedule(1, 0.5), Progress = progress,
        });
        var history = trainer.Fit(data);
        progress.Reports.Select(r => r.LearningRate).Should().Equal(0.1, 0.05, 0.025, 0.0125, 0.00625, 0.003125);
        trainer.CurrentLearningRates.Should().Equal(0.003125, 0.03125);
        history.Epochs.Select(e => e.LearningRate).Should().Equal(0.025, 0.003125);
        trainer.StepCount.Should().Be(6);
    }

    [Fact]
    public void Sam_InTheTrainer_StepsWithTheGradientAtThePerturbedWeights()
    {
        using var scope = NewDisposeScope();
        using var data = Images(8, 2, 15);
        var model = LinearModel();
        var weight = model.parameters().First().detach().clone();
        var bias = model.parameters().Last().detach().clone();
        Tensor x = data.Gather(arange(8, dtype: ScalarType.Int64)).Images.flatten(1);
        (Tensor, Tensor) Gradient(Tensor w, Tensor b)
        {
            var wp = w.clone().requires_grad_(true);
            var bp = b.clone().requires_grad_(true);
            (x.matmul(wp.t()) + bp).pow(2).mean().backward();
            return (wp.grad!.clone(), bp.grad!.clone());
        }
        // By hand: g at w, e = ρ·g/‖g‖, g' at w + e, w ← w − lr·g'.
        var (gw, gb) = Gradient(weight, bias);
        double norm = Math.Sqrt(gw.pow(2).sum().item<float>() + gb.pow(2).sum().item<float>());
        var (sw, sb) = Gradient(weight + gw * (0.5 / norm), bias + gb * (0.5 / norm));
        Tensor expectedWeight = weight - sw * 0.1;
        Tensor expectedBias = bias - sb * 0.1;

        using var trainer = new EmbeddingTrainer(model, new FunctionLoss((e, _) => e.pow(2).mean()), new TrainerOptions
        {
            Epochs = 1, BatchSize = 8, Optimizer = OptimizerKind.Sgd, Momentum = 0, LearningRate = 0.1, SamRho = 0.5,
        });
        trainer.Fit(data);
        model.parameters().First().detach().allclose(expectedWeight, rtol: 1e-5, atol: 1e-6).Should().BeTrue();
        model.parameters().Last().detach().allclose(expectedBias, rtol: 1e-5, atol: 1e-6).Should().BeTrue();
        // Plain SGD would have used g, not g'.
        model.parameters().First().detach().allclose(weight - gw * 0.1, rtol: 1e-5, atol: 1e-6).Should().BeFalse();
    }

    [Fact]
    public void Options_AreChecked()
    {
        using var scope = NewDisposeScope();
        var model = LinearModel();
        FluentActions.Invoking(() => new EmbeddingTrainer(model, new TripletMarginLoss(), new TrainerOptions { LearningRate = double.NaN }))
            .Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new EmbeddingTrainer(model, new TripletMarginLoss(), new TrainerOptions { BatchSize = 0 }))
            .Should().Throw<ArgumentOutOfRangeException>();
        using var tiny = Images(4, 2, 1);
        using var trainer = new EmbeddingTrainer(model, new TripletMarginLoss(), new TrainerOptions { BatchSize = 8 });
        trainer.Invoking(t => t.Fit(tiny)).Should().Throw<ArgumentException>().WithMessage("*batch*");
    }

    [Fact]
    public void Fit_RejectsAnImageSetWithoutLabels()
    {
        using var scope = NewDisposeScope();
        using var labelled = Images(8, 2, 1);
        using var unlabelled = new TensorImageSet(zeros(8, 1, 8, 8));
        using var trainer = new EmbeddingTrainer(LinearModel(), new TripletMarginLoss(), new TrainerOptions { BatchSize = 4, Epochs = 1 });
        trainer.Invoking(t => t.Fit(unlabelled)).Should().Throw<ArgumentException>().WithMessage("*no labels*").And.ParamName.Should().Be("train");
        trainer.Invoking(t => t.Fit(labelled, unlabelled)).Should().Throw<ArgumentException>().WithMessage("*no labels*").And.ParamName.Should().Be("validation");
        trainer.CompletedEpochs.Should().Be(0);
    }
}
