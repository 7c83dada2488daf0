using System.Numerics.Tensors;
using DeepRetrieval.Data;
using DeepRetrieval.Imaging;
using DeepRetrieval.Imaging.Processing;
using DeepRetrieval.Indexes;
using DeepRetrieval.OnnxRuntime.Extraction;
using DeepRetrieval.Pooling;

namespace DeepRetrieval.OnnxRuntime.Tests.Extraction;

/// <summary>Folder extraction with ML.NET's ResNet-18 and a dynamic-size CNN, on photos from mate-backgrounds.</summary>
public sealed class OnnxFeatureExtractorTests : IDisposable
{
    private static readonly string Models = TestFiles.DnnImageModels;
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "dr-extract-" + Guid.NewGuid().ToString("N"));

    public OnnxFeatureExtractorTests()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "sub"));
        File.Copy(TestFiles.Photos[0], Path.Combine(_folder, "a.jpg"));
        File.Copy(TestFiles.Photos[1], Path.Combine(_folder, "sub", "b.jpg"));
        File.Copy(TestFiles.Photos[2], Path.Combine(_folder, "c.jpg"));
        byte[] jpeg = File.ReadAllBytes(TestFiles.Photos[3]);
        File.WriteAllBytes(Path.Combine(_folder, "truncated.jpg"), jpeg[..(jpeg.Length / 50)]);
        File.WriteAllText(Path.Combine(_folder, "notes.png"), "not an image");
        File.WriteAllText(Path.Combine(_folder, "readme.txt"), "ignored: not an image extension");
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static OnnxEmbedder ResNet18() =>
        new(MlNetResNet18.ModelPath(Models), MlNetResNet18.Options(Models, new GemPooling(3f)) with { IntraOpThreads = 2 });

    // The pipeline the extractor documents, step by step with the image package: decode, cover 224 × 224, centre crop, embed.
    private static float[] ByHand(OnnxEmbedder embedder, string path, bool flip)
    {
        PixelImage image = ImageDecoder.Decode(path).ResizeShorterSide(224, ResizeFilter.Bilinear).CenterCrop(224, 224);
        float[] plain = embedder.EmbedPixels(image);
        if (!flip)
            return plain;
        float[] mirrored = embedder.EmbedPixels(image.FlipHorizontal());
        var mean = new float[plain.Length];
        TensorPrimitives.Add(plain, mirrored, mean);
        TensorPrimitives.Divide(mean, TensorPrimitives.Norm<float>(mean), mean);
        return mean;
    }

    [Fact]
    public void ExtractFolder_EmbedsEveryPhotoAsThePipelineByHand_AndReportsTheBadFiles()
    {
        using OnnxEmbedder embedder = ResNet18();
        var extractor = new OnnxFeatureExtractor(embedder, new OnnxExtractionOptions { DecodeThreads = 2 });
        var reports = new List<ImageExtractionProgress>();
        ImageFeatures features = extractor.ExtractFolder(_folder, new SynchronousProgress(reports.Add));

        // Sorted relative paths: a.jpg, c.jpg, notes.png, sub/b.jpg, truncated.jpg → ids 0, 1, 3 embedded; 2 and 4 skipped.
        features.Ids.Should().Equal(0L, 1L, 3L);
        features.Paths.Select(Path.GetFileName).Should().Equal("a.jpg", "c.jpg", "b.jpg");
        features.Dimension.Should().Be(512);
        features.Skipped.Select(s => (s.Index, Path.GetFileName(s.Path))).Should().Equal((2, "notes.png"), (4, "truncated.jpg"));
        features.Skipped.Should().OnlyContain(s => s.Error is InvalidDataException);
        for (int row = 0; row < features.Count; row++)
        {
            float[] expected = ByHand(embedder, features.Paths[row], flip: false);
            features.GetVector(row).ToArray().Should().Equal(expected, (a, b) => Math.Abs(a - b) < 1e-5f, $"row {row} ({features.Paths[row]})");
            TensorPrimitives.Norm(features.GetVector(row)).Should().BeApproximately(1f, 1e-5f);
        }
        reports[^1].Should().Match<ImageExtractionProgress>(p => p.Processed == 3 && p.Skipped == 2 && p.Total == 5);
        features.Times.Decode.Should().BePositive();
        features.Times.Prepare.Should().BePositive();
        features.Times.Embed.Should().BePositive();
    }

    [Fact]
    public void HorizontalFlip_AveragesThePlainAndMirroredEmbeddings_AndNormalisesAgain()
    {
        using OnnxEmbedder embedder = ResNet18();
        var extractor = new OnnxFeatureExtractor(embedder, new OnnxExtractionOptions { HorizontalFlip = true });
        extractor.ViewsPerImage.Should().Be(2);
        string photo = TestFiles.Photos[4];
        float[] ours = extractor.Embed(ImageDecoder.Decode(photo));
        ours.Should().Equal(ByHand(embedder, photo, flip: true), (a, b) => Math.Abs(a - b) < 1e-5f);
        // The flip changes the embedding (the photo is not symmetric), but not by much.
        float cosine = TensorPrimitives.Dot(ours, ByHand(embedder, photo, flip: false));
        cosine.Should().BeInRange(0.8f, 0.9999f);
    }

    [Fact]
    public void MultiScale_EmbedsEachScaleAtItsSize_OnADynamicSizeModel()
    {
        using var embedder = new OnnxEmbedder(TestFiles.Reference("tiny_cnn_any_size.onnx"),
            new OnnxEmbedderOptions { OutputName = "features", InputHeight = 32, InputWidth = 32 });
        var extractor = new OnnxFeatureExtractor(embedder, new OnnxExtractionOptions { Scales = [1.0, 1.5], Preparation = ImagePreparation.Stretch });
        PixelImage photo = ImageDecoder.Decode(TestFiles.Photos[5]);
        float[] ours = extractor.Embed(photo);

        float[] Scale(int size)
        {
            PixelImage view = photo.Resize(size, size, ResizeFilter.Bilinear);
            var planes = new float[3 * size * size];
            embedder.Normalization.Normalize(view, planes);
            var embedding = new float[embedder.Dimension];
            embedder.Embed(planes, 1, size, size, embedding);
            return embedding;
        }
        float[] expected = new float[embedder.Dimension];
        TensorPrimitives.Add(Scale(32), Scale(48), expected);
        TensorPrimitives.Divide(expected, TensorPrimitives.Norm<float>(expected), expected);
        ours.Should().Equal(expected, (a, b) => Math.Abs(a - b) < 1e-5f);
    }

    [Fact]
    public void Constructor_RefusesSeveralScales_ForAModelWithAFixedInputSize()
    {
        using OnnxEmbedder embedder = ResNet18();
        FluentActions.Invoking(() => new OnnxFeatureExtractor(embedder, new OnnxExtractionOptions { Scales = [1.0, 0.7] }))
            .Should().Throw<ArgumentException>().WithMessage("*fixes its input at 224 × 224*multi-scale needs a model with dynamic height and width*");
        FluentActions.Invoking(() => new OnnxFeatureExtractor(embedder, new OnnxExtractionOptions { CropFraction = 0 }))
            .Should().Throw<ArgumentException>();
    }

    [Fact]
    public void ExtractFolderToIndexAndNpy_WriteTheSameRows()
    {
        using OnnxEmbedder embedder = ResNet18();
        var extractor = new OnnxFeatureExtractor(embedder);
        IVectorIndex index = IndexFactory.Create(embedder.Dimension, "Flat", Metric.InnerProduct);
        ImageFeatures features = extractor.ExtractFolderToIndex(_folder, index);
        index.Count.Should().Be(3);
        string npy = Path.Combine(_folder, "vectors.npy");
        extractor.ExtractFolderToNpy(_folder, npy);
        NpyArray saved = NpyReader.Read(npy);
        saved.Shape.Should().Equal(3, 512);
        saved.Data.Should().Equal(features.Vectors, (a, b) => Math.Abs(a - b) < 1e-6f);
        // Each photo finds itself first.
        for (int row = 0; row < features.Count; row++)
            index.Search(features.GetVector(row), 1).Ids[0].Should().Be(features.Ids[row]);
    }

    [Fact]
    public void ExtractFolder_StopsWhenCancelled()
    {
        using OnnxEmbedder embedder = ResNet18();
        var extractor = new OnnxFeatureExtractor(embedder);
        using var cancel = new CancellationTokenSource();
        int reports = 0;
        FluentActions.Invoking(() => extractor.ExtractFolder(_folder, new SynchronousProgress(_ =>
            {
                if (++reports == 1) cancel.Cancel();
            }), cancel.Token))
            .Should().Throw<OperationCanceledException>();
        reports.Should().Be(1, "nothing is embedded after the cancellation");
    }

    [Fact]
    public void ExtractFiles_OfAnEmptyList_ReturnsNoRows()
    {
        using OnnxEmbedder embedder = ResNet18();
        ImageFeatures features = new OnnxFeatureExtractor(embedder).ExtractFiles([]);
        features.Count.Should().Be(0);
        features.Skipped.Should().BeEmpty();
    }

    private sealed class SynchronousProgress(Action<ImageExtractionProgress> report) : IProgress<ImageExtractionProgress>
    {
        public void Report(ImageExtractionProgress value) => report(value);
    }
}
