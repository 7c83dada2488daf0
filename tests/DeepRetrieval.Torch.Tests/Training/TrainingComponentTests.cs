using DeepRetrieval.Torch.Backbones;
using DeepRetrieval.Torch.Losses;
using DeepRetrieval.Torch.Training;
using SkiaSharp;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static DeepRetrieval.Torch.Tests.Training.TrainingTestKit;

namespace DeepRetrieval.Torch.Tests.Training;

public sealed class TrainingComponentTests
{
    [Fact]
    public void Sam_OnAQuadratic_StepsWithTheGradientAtThePerturbedPoint()
    {
        using var scope = NewDisposeScope();
        // f(w) = ½‖w‖², w = (3, 4): g = (3, 4), ‖g‖ = 5, ρ = 0.5 → e = (0.3, 0.4); the gradient at w + e is (3.3, 4.4),
        // so SGD with lr 0.1 from w gives (3 − 0.33, 4 − 0.44) = (2.67, 3.56).
        var w = new Parameter(tensor(new[] { 3.0, 4.0 }));
        using var sgd = optim.SGD([w], 0.1);
        using var sam = new SharpnessAwareMinimization([w], rho: 0.5);
        (w.pow(2).sum() * 0.5).backward();
        sam.AscendStep();
        sam.IsPerturbed.Should().BeTrue();
        w.data<double>().ToArray().Should().BeEquivalentTo(new[] { 3.3, 4.4 }, o => o.Using<double>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-12)).WhenTypeIs<double>());
        sgd.zero_grad();
        (w.pow(2).sum() * 0.5).backward();
        sam.RestoreWeights();
        sgd.step();
        w.data<double>().ToArray().Should().BeEquivalentTo(new[] { 2.67, 3.56 }, o => o.Using<double>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-12)).WhenTypeIs<double>());
    }

    [Fact]
    public void Sam_Adaptive_ScalesThePerturbationByTheWeights()
    {
        using var scope = NewDisposeScope();
        // ASAM: e = ρ·w²·g / ‖|w|·g‖. w = (1, 2), g = w = (1, 2): |w|·g = (1, 4), norm √17; w²·g = (1, 8).
        var w = new Parameter(tensor(new[] { 1.0, 2.0 }));
        using var sam = new SharpnessAwareMinimization([w], rho: 1, adaptive: true);
        (w.pow(2).sum() * 0.5).backward();
        sam.AscendStep();
        double n = Math.Sqrt(17);
        w.data<double>()[0].Should().BeApproximately(1 + 1 / n, 1e-12);
        w.data<double>()[1].Should().BeApproximately(2 + 8 / n, 1e-12);
    }

    [Fact]
    public void Swa_AveragesTheSnapshots_AndWritesTheAverageBack()
    {
        using var scope = NewDisposeScope();
        var model = nn.Linear(2, 1);
        using var swa = new StochasticWeightAveraging(model);
        foreach (double value in new[] { 1.0, 3.0, 8.0 })
        {
            using (no_grad()) foreach (var p in model.parameters()) p.fill_(value);
            swa.Update();
        }
        swa.AveragedCount.Should().Be(3);
        swa.CopyTo();
        model.parameters().All(p => p.eq(4f).all().item<bool>()).Should().BeTrue();
    }

    [Fact]
    public void Swa_UpdateBatchNorm_ComputesThePlainAverageOfBatchStatistics_AndRestoresMomentum()
    {
        using var scope = NewDisposeScope();
        var norm = nn.BatchNorm1d(2);
        norm.eval();
        // Batch means 1 and 5 → running mean 3; unbiased batch variances 2 and 2 → running variance 2.
        Tensor[] batches = [tensor(new float[,] { { 0, 0 }, { 2, 2 } }), tensor(new float[,] { { 4, 4 }, { 6, 6 } })];
        StochasticWeightAveraging.UpdateBatchNorm(norm, batches);
        norm.running_mean!.data<float>().ToArray().Should().Equal(3f, 3f);
        norm.running_var!.data<float>().ToArray().Should().Equal(2f, 2f);
        norm.momentum.Should().Be(0.1);
        norm.training.Should().BeFalse();
    }

    [Fact]
    public void Validation_ScoresLeaveOneOutRetrieval_ByHand()
    {
        using var scope = NewDisposeScope();
        Tensor points = tensor(new float[,] { { 0 }, { 0.1f }, { 5 }, { 5.1f } });
        EmbeddingValidation.Evaluate(points, [0L, 0, 1, 1], metric: Metric.L2).Should().Be(new ValidationMetrics(1, 1, 1));
        // Labels 0, 1, 0, 1: each nearest other item has the other label; R = 1 for all, so every metric is 0.
        EmbeddingValidation.Evaluate(points, [0L, 1, 0, 1], metric: Metric.L2).Should().Be(new ValidationMetrics(0, 0, 0));
        // Labels 0, 0, 0, 1: item 0's neighbours are 1 then 2 (both relevant); item 2's are 3 then 1 (AP@2 = ½·½);
        // item 3 has R = 0 and is skipped. P@1 = (1 + 1 + 0) / 3, MAP@R = (1 + 1 + ¼) / 3, R-Precision = (1 + 1 + ½) / 3.
        var mixed = EmbeddingValidation.Evaluate(points, [0L, 0, 0, 1], metric: Metric.L2);
        mixed.PrecisionAt1.Should().BeApproximately(2.0 / 3, 1e-12);
        mixed.MapAtR.Should().BeApproximately(2.25 / 3, 1e-12);
        mixed.RPrecision.Should().BeApproximately(2.5 / 3, 1e-12);
    }

    [Theory]
    [InlineData(Metric.Cosine)]
    [InlineData(Metric.L2)]
    [InlineData(Metric.InnerProduct)]
    public void Validation_ThroughTheFlatIndex_EqualsABruteForceLeaveOneOutRanking(Metric metric)
    {
        using var scope = NewDisposeScope();
        // 300 points in 8 classes around class centres, so the metrics sit between 0 and 1.
        using var generator = new Generator(41);
        const int n = 300, d = 12;
        long[] labels = Enumerable.Range(0, n).Select(i => (long)(i % 8)).ToArray();
        Tensor centres = randn([8, d], ScalarType.Float64, generator: generator);
        Tensor points = (centres.index_select(0, tensor(labels)) + randn([n, d], ScalarType.Float64, generator: generator) * 1.5).to(ScalarType.Float32);

        var actual = EmbeddingValidation.Evaluate(points, labels, metric);

        // Reference: the full n × n score matrix in float64, each row ranked (self excluded) and scored by the definitions.
        Tensor x = points.to(ScalarType.Float64);
        if (metric == Metric.Cosine) x = nn.functional.normalize(x, p: 2, dim: 1);
        Tensor scores = metric == Metric.L2 ? -cdist(x, x).pow(2) : x.matmul(x.t());
        scores = scores.masked_fill(eye(n, dtype: ScalarType.Bool), double.NegativeInfinity);
        long[] ranking = scores.argsort(1, descending: true).contiguous().data<long>().ToArray();
        double p1 = 0, map = 0, rPrecision = 0;
        int queries = 0;
        for (int q = 0; q < n; q++)
        {
            int r = labels.Count(l => l == labels[q]) - 1;
            if (r == 0) continue;
            queries++;
            int hits = 0;
            double precisionSum = 0;
            for (int i = 0; i < r; i++)
            {
                if (labels[ranking[q * n + i]] != labels[q]) continue;
                hits++;
                precisionSum += hits / (double)(i + 1);
            }
            p1 += labels[ranking[q * n]] == labels[q] ? 1 : 0;
            map += precisionSum / r;
            rPrecision += hits / (double)r;
        }
        actual.PrecisionAt1.Should().BeApproximately(p1 / queries, 1e-9);
        actual.MapAtR.Should().BeApproximately(map / queries, 1e-6);
        actual.RPrecision.Should().BeApproximately(rPrecision / queries, 1e-6);
        actual.MapAtR.Should().BeInRange(0.05, 0.95, "a test between the extremes");
    }

    [Fact]
    public void Validation_RejectsNaNEmbeddings()
    {
        using var scope = NewDisposeScope();
        FluentActions.Invoking(() => EmbeddingValidation.Evaluate(tensor(new[,] { { 0f }, { float.NaN } }), [0L, 0]))
            .Should().Throw<ArgumentException>().WithMessage("*NaN*");
    }

    [Fact]
    public void History_RoundTripsThroughCsvAndJson_IncludingNaN()
    {
        var history = new TrainingHistory([
            new EpochRecord(1, 0.6931471805599453, 1e-3, 321.5, 0, double.NaN, double.NaN, double.NaN, 2.25),
            new EpochRecord(2, 0.1 + 0.2, 9.5e-4, 330, 2, 0.875, 0.625, 0.7, 2.5),
        ]);
        TrainingHistory.FromCsv(history.ToCsv()).Epochs.Should().Equal(history.Epochs);
        TrainingHistory.FromJson(history.ToJson()).Epochs.Should().Equal(history.Epochs);
        history.ToCsv().Split('\n')[0].Should().StartWith("epoch,train_loss");
        FluentActions.Invoking(() => TrainingHistory.FromCsv("epoch,loss\n1,2")).Should().Throw<InvalidDataException>();
        string path = Path.Combine(Path.GetTempPath(), $"history-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(path, "{ not json");
            FluentActions.Invoking(() => TrainingHistory.LoadJson(path)).Should().Throw<InvalidDataException>().WithMessage($"*{path}*");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void SavePlot_WritesAPngOfTheRequestedSize_WithCurvesDrawn()
    {
        var history = new TrainingHistory(Enumerable.Range(1, 6).Select(e =>
            new EpochRecord(e, 2.0 / e, 1e-3, 300, 0, 0.5 + e * 0.05, 0.3 + e * 0.05, 0.4, 1)));
        string path = Path.Combine(Path.GetTempPath(), $"curve-{Guid.NewGuid():N}.png");
        try
        {
            history.SavePlot(path, 640, 400);
            using var bitmap = SKBitmap.Decode(path);
            bitmap.Should().NotBeNull();
            bitmap.Width.Should().Be(640);
            bitmap.Height.Should().Be(400);
            // Somewhere there is the loss curve's blue and MAP@R's red, not just a white canvas.
            var colors = bitmap.Pixels.Select(p => (p.Red, p.Green, p.Blue)).ToHashSet();
            colors.Should().Contain((31, 119, 180));
            colors.Should().Contain((214, 39, 40));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void TwoStage_FreezesTheBackboneInStage1_AndTrainsItInStage2()
    {
        using var scope = NewDisposeScope();
        using var data = Images(32, 4, 12);
        var backbone = new SmallCnn(1, [4, 4, 4, 4, 4]);
        var model = nn.Sequential(backbone, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 6));
        Tensor[] Weights(nn.Module m) => m.parameters().Select(p => p.detach().clone()).ToArray();
        bool Same(Tensor[] a, Tensor[] b) => a.Zip(b).All(t => t.First.eq(t.Second).all().item<bool>());
        var common = new TrainerOptions { BatchSize = 16, Seed = 3 };

        var backboneBefore = Weights(backbone);
        var headBefore = Weights(model).Skip(backboneBefore.Length).ToArray();
        var stage1 = TwoStageRecipe.Run(backbone, model, new NormalizedSoftmaxLoss(4, 6), data, null,
            new TwoStageOptions { Common = common, FrozenEpochs = 1, FineTuneEpochs = 0, FrozenLearningRate = 0.05 });
        stage1.Epochs.Should().ContainSingle();
        Same(Weights(backbone), backboneBefore).Should().BeTrue("stage 1 trains only the head");
        Same(Weights(model).Skip(backboneBefore.Length).ToArray(), headBefore).Should().BeFalse();

        var both = TwoStageRecipe.Run(backbone, model, new NormalizedSoftmaxLoss(4, 6), data, null,
            new TwoStageOptions { Common = common, FrozenEpochs = 1, FineTuneEpochs = 1, FineTuneLearningRate = 0.05, TripletMargin = 0.5 });
        both.Epochs.Select(e => e.Epoch).Should().Equal(1, 2);
        Same(Weights(backbone), backboneBefore).Should().BeFalse("stage 2 fine-tunes the backbone");
        backbone.FrozenStageCount.Should().Be(0);
    }
}
