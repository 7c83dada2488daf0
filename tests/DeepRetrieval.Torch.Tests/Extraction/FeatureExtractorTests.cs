using DeepRetrieval.Data;
using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Codes;
using DeepRetrieval.Quantization;
using DeepRetrieval.Torch.Backbones;
using DeepRetrieval.Torch.Data;
using DeepRetrieval.Torch.Extraction;
using DeepRetrieval.Torch.Heads;
using DeepRetrieval.Torch.Pooling;
using DeepRetrieval.Torch.Tests.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Extraction;

public sealed class FeatureExtractorTests
{
    private const int Dimension = 6;

    [Fact]
    public void Extract_EqualsTheModelsEvalOutput_AndRestoresTrainingMode()
    {
        using var scope = NewDisposeScope();
        var (model, _) = Model();
        model.train();
        Tensor images = Images(5);
        var extractor = new FeatureExtractor(model, new FeatureExtractorOptions { Normalize = false });

        ExtractedFeatures features = extractor.Extract(images);

        model.training.Should().BeTrue();
        model.modules().Should().OnlyContain(m => m.training);
        Tensor expected = EvalOutput(model, images);
        features.Ids.Should().Equal(0, 1, 2, 3, 4);
        features.Dimension.Should().Be(Dimension);
        Tensor actual = tensor(features.Vectors, [5, Dimension]);
        actual.allclose(expected, 1e-5, 1e-6).Should().BeTrue();
        model.train();
        actual.allclose(model.call(images), 1e-3, 1e-3).Should().BeFalse("training-mode batch norm would give other values");
    }

    [Fact]
    public void Extract_RestoresAMixedTrainingState_ModuleByModule()
    {
        using var scope = NewDisposeScope();
        var (model, norm) = Model();
        model.train();
        norm.eval();

        new FeatureExtractor(model).Extract(Images(2));

        model.training.Should().BeTrue();
        norm.training.Should().BeFalse();
        model.modules().Where(m => !ReferenceEquals(m, norm)).Should().OnlyContain(m => m.training);
    }

    [Fact]
    public void Normalize_GivesUnitRows_InTheDirectionOfTheEvalOutput()
    {
        using var scope = NewDisposeScope();
        var (model, _) = Model();
        Tensor images = Images(4);

        ExtractedFeatures features = new FeatureExtractor(model).Extract(images);

        Tensor actual = tensor(features.Vectors, [4, Dimension]);
        actual.norm(1).allclose(ones(4), 1e-5, 1e-6).Should().BeTrue();
        actual.allclose(nn.functional.normalize(EvalOutput(model, images), dim: 1), 1e-5, 1e-6).Should().BeTrue();
    }

    [Fact]
    public void HorizontalFlip_AveragesTheNormalisedEmbeddingsOfTheImageAndItsMirror()
    {
        using var scope = NewDisposeScope();
        var (model, _) = Model();
        Tensor images = Images(3);
        var extractor = new FeatureExtractor(model, new FeatureExtractorOptions { HorizontalFlip = true });

        Tensor actual = extractor.Embed(images);

        Tensor plain = nn.functional.normalize(EvalOutput(model, images), dim: 1);
        Tensor mirrored = nn.functional.normalize(EvalOutput(model, images.flip(3)), dim: 1);
        actual.allclose(nn.functional.normalize((plain + mirrored) / 2, dim: 1), 1e-5, 1e-6).Should().BeTrue();
        actual.allclose(plain, 1e-3, 1e-3).Should().BeFalse("the model is not mirror-symmetric, so the flip must change the result");
        actual.requires_grad.Should().BeFalse();
        extractor.ViewsPerImage.Should().Be(2);
    }

    [Fact]
    public void MultiScale_RunsTheModelOncePerScaleAndFlip_AtTheScaledSizes_AndAveragesTheViews()
    {
        using var scope = NewDisposeScope();
        var recorder = new ShapeRecorder();
        Tensor images = Images(2, 16);
        var extractor = new FeatureExtractor(recorder, new FeatureExtractorOptions { Scales = [1, 0.5], HorizontalFlip = true });

        Tensor actual = extractor.Embed(images);

        recorder.Shapes.Should().BeEquivalentTo(new[] { new long[] { 2, 3, 16, 16 }, [2, 3, 16, 16], [2, 3, 8, 8], [2, 3, 8, 8] }, o => o.WithStrictOrdering());
        // Channel means do not change under a flip, so the four views are two pairs of equal embeddings.
        Tensor full = nn.functional.normalize(images.mean([2, 3]), dim: 1);
        Tensor half = nn.functional.normalize(nn.functional.interpolate(images, [8, 8], mode: InterpolationMode.Bilinear, align_corners: false).mean([2, 3]), dim: 1);
        actual.allclose(nn.functional.normalize(full + half, dim: 1), 1e-5, 1e-6).Should().BeTrue();

        recorder.Shapes.Clear();
        new FeatureExtractor(recorder, new FeatureExtractorOptions { Scales = FeatureExtractorOptions.RetrievalScales }).Embed(images);
        recorder.Shapes.Select(s => s[2]).Should().Equal(16, 11, 22);
    }

    [Fact]
    public void Batching_GivesTheSameEmbeddingsAsOneBigBatch()
    {
        using var scope = NewDisposeScope();
        var (model, _) = Model();
        Tensor images = Images(7);

        ExtractedFeatures small = new FeatureExtractor(model, new FeatureExtractorOptions { BatchSize = 3, HorizontalFlip = true }).Extract(images);
        ExtractedFeatures big = new FeatureExtractor(model, new FeatureExtractorOptions { BatchSize = 100, HorizontalFlip = true }).Extract(images);

        small.Ids.Should().Equal(big.Ids);
        small.Vectors.Should().Equal(big.Vectors, (a, b) => Math.Abs(a - b) < 1e-6f);
    }

    [Fact]
    public void ExtractToIndex_AddsEveryImageUnderItsId_SoEachFindsItselfFirst()
    {
        using var scope = NewDisposeScope();
        var (model, _) = Model();
        Tensor images = Images(10);
        long[] ids = Enumerable.Range(100, 10).Select(i => (long)i * 3).ToArray();
        var index = new FlatIndex(Dimension);

        ExtractedFeatures features = new FeatureExtractor(model, new FeatureExtractorOptions { BatchSize = 4 })
            .ExtractToIndex(new TensorImageSet(images, ids: ids), index);

        index.Count.Should().Be(10);
        var found = new long[10];
        index.Search(features.Vectors, 1, found, new float[10]);
        found.Should().Equal(ids);
    }

    [Fact]
    public void ExtractToIndex_TrainsAnUntrainedIndexOnTheFeaturesFirst()
    {
        using var scope = NewDisposeScope();
        var (model, _) = Model();
        var index = new ScalarQuantizerIndex(Dimension, ScalarQuantizerType.SQ8);

        new FeatureExtractor(model).ExtractToIndex(new TensorImageSet(Images(6)), index);

        index.IsTrained.Should().BeTrue();
        index.Count.Should().Be(6);
        new FeatureExtractor(model).Invoking(e => e.ExtractToIndex(new TensorImageSet(Images(2)), new FlatIndex(Dimension + 1)))
            .Should().Throw<ArgumentException>().WithMessage($"*{Dimension + 1}-dimensional*{Dimension}*");
    }

    [Fact]
    public void ExtractToNpy_RoundTripsThroughTheCoreReader()
    {
        using var scope = NewDisposeScope();
        var (model, _) = Model();
        string path = Path.Combine(Path.GetTempPath(), $"dr-features-{Guid.NewGuid():N}.npy");
        try
        {
            ExtractedFeatures features = new FeatureExtractor(model).ExtractToNpy(new TensorImageSet(Images(5)), path);

            NpyArray read = NpyReader.Read(path);
            read.Shape.Should().Equal(5, Dimension);
            read.Data.Should().Equal(features.Vectors);
            features.ToJaggedArray()[3].Should().Equal(features.GetVector(3).ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Extract_FromAnImageFolder_SkipsBadFiles_AndReportsProgress()
    {
        using var scope = NewDisposeScope();
        using var folder = new ImageFolderFixture();
        var dataset = ImageFileSet.FromFolder(folder.Root, new ImageFileSetOptions { Preprocessing = new ImagePreprocessing { ResizeMode = ImageResizeMode.Square, Size = 8 } });
        var (model, _) = Model();
        var reports = new List<ExtractionProgress>();
        var logger = new ListLogger();

        var tensorsBefore = scope.DisposablesCount;
        ExtractedFeatures features = new FeatureExtractor(model, new FeatureExtractorOptions { BatchSize = 2 }, logger)
            .Extract(dataset, new ImmediateProgress<ExtractionProgress>(reports.Add));

        scope.DisposablesCount.Should().Be(tensorsBefore, "batch tensors are freed batch by batch, not left in the caller's scope");

        features.Ids.Should().Equal(1, 2, 3, 5, 7);
        features.Labels.Should().Equal(0, 1, 1, 2, 2);
        features.Skipped.Select(s => Path.GetFileName(s.Path)).Should().Equal("garbage.png", "c_truncated.png", "empty.jpg");
        reports.Select(r => r.Processed).Should().BeInAscendingOrder();
        reports[^1].Should().Match<ExtractionProgress>(r => r.Processed == 5 && r.Skipped == 3 && r.Total == 8 && r.ImagesPerSecond > 0);
        logger.Entries.Should().Contain(e => e.Message.Contains("Extracted 5 embeddings") && e.Message.Contains("3 images skipped"));
        Tensor expected = nn.functional.normalize(EvalOutput(model, dataset.LoadImage(3).unsqueeze(0)), dim: 1);
        tensor(features.GetVector(2).ToArray()).allclose(expected[0], 1e-5, 1e-6).Should().BeTrue();
    }

    [Fact]
    public void BadModelsImagesAndOptions_AreRejectedWithClearExceptions()
    {
        using var scope = NewDisposeScope();
        var (model, _) = Model();
        var extractor = new FeatureExtractor(model);
        Tensor nan = Images(2);
        nan[0, 0, 0, 0] = tensor(float.NaN);

        extractor.Invoking(e => e.Embed(nan)).Should().Throw<ArgumentException>().WithMessage("*NaN*");
        extractor.Invoking(e => e.Extract(nan)).Should().Throw<ArgumentException>().WithMessage("*NaN*");
        extractor.Invoking(e => e.Embed(zeros(3, 8, 8))).Should().Throw<ArgumentException>().WithMessage("*N × C × H × W*");
        new FeatureExtractor(nn.Conv2d(3, 2, 1)).Invoking(e => e.Extract(Images(2))).Should().Throw<InvalidOperationException>().WithMessage("*N × D*pooling*");
        FluentActions.Invoking(() => new FeatureExtractor(model, new FeatureExtractorOptions { BatchSize = 0 })).Should().Throw<ArgumentException>().WithMessage("*BatchSize*");
        FluentActions.Invoking(() => new FeatureExtractor(model, new FeatureExtractorOptions { Scales = [1, -2] })).Should().Throw<ArgumentException>().WithMessage("*Scales*");
        model.training.Should().BeTrue("a failed run still restores the mode");
    }

    [Fact]
    public void Extract_RunsABackbonePoolingHeadSequence_OnIdxImages()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var embedder = nn.Sequential(("backbone", new SmallCnn(widths: [4, 4, 8, 8, 16])), ("pool", new GeM()), ("head", new L2Normalization()));
        var pixels = new byte[3 * 28 * 28];
        new Random(2).NextBytes(pixels);
        using var source = TensorImageSet.FromIdx(new IdxImages(3, 28, 28, pixels), mean: 0.2860f, std: 0.3530f);

        ExtractedFeatures features = new FeatureExtractor(embedder, new FeatureExtractorOptions { BatchSize = 2, HorizontalFlip = true }).Extract(source);

        features.Dimension.Should().Be(16);
        features.Ids.Should().Equal(0, 1, 2);
        tensor(features.Vectors, [3, 16]).norm(1).allclose(ones(3), 1e-5, 1e-6).Should().BeTrue();
    }

    [Fact]
    public void Extract_WorksWithoutAnOuterDisposeScope_AndLeavesTheSourceTensorUsable()
    {
        var (model, _) = Model();
        using Tensor images = Images(3);

        ExtractedFeatures features = new FeatureExtractor(model, new FeatureExtractorOptions { BatchSize = 2 }).Extract(images);

        features.Count.Should().Be(3);
        images.IsInvalid.Should().BeFalse();
        images.sum().item<float>().Should().BeGreaterThan(0);
    }

    [Fact]
    public void Extract_StopsWhenCancelled_AndRestoresTheMode()
    {
        using var scope = NewDisposeScope();
        var (model, _) = Model();
        model.train();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        new FeatureExtractor(model).Invoking(e => e.Extract(Images(3), cancellationToken: cancelled.Token)).Should().Throw<OperationCanceledException>();

        model.training.Should().BeTrue();
    }

    private static (Sequential Model, BatchNorm2d Norm) Model()
    {
        manual_seed(7);
        var norm = nn.BatchNorm2d(Dimension);
        var model = nn.Sequential(("conv", nn.Conv2d(3, Dimension, 3, padding: 1)), ("bn", norm), ("relu", nn.ReLU()),
            ("pool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()));
        // Running statistics unlike a batch's own, so evaluation and training mode give different embeddings.
        using (no_grad())
        {
            norm.running_mean!.fill_(0.2);
            norm.running_var!.fill_(3);
        }
        return (model, norm);
    }

    private static Tensor EvalOutput(nn.Module<Tensor, Tensor> model, Tensor images)
    {
        bool training = model.training;
        model.eval();
        using var noGrad = no_grad();
        Tensor output = model.call(images);
        model.train(training);
        return output;
    }

    private static Tensor Images(int count, int size = 8) => rand([count, 3, size, size], generator: new Generator(11));

    private sealed class ShapeRecorder() : nn.Module<Tensor, Tensor>(nameof(ShapeRecorder))
    {
        public List<long[]> Shapes { get; } = [];

        public override Tensor forward(Tensor input)
        {
            Shapes.Add(input.shape);
            return input.mean([2, 3]);
        }
    }

    private sealed class ImmediateProgress<T>(Action<T> handler) : IProgress<T>
    {
        public void Report(T value) => handler(value);
    }
}
