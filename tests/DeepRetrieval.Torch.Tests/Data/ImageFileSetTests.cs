using DeepRetrieval.Torch.Backbones;
using DeepRetrieval.Torch.Data;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Data;

public sealed class ImageFileSetTests : IDisposable
{
    private static readonly ImageFileSetOptions Square8 = new() { Preprocessing = new ImagePreprocessing { ResizeMode = ImageResizeMode.Square, Size = 8 } };
    private readonly ImageFolderFixture _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Scan_SortsClassesOrdinally_AndFilesByFolderThenName_IgnoringOtherExtensions()
    {
        var dataset = ImageFileSet.FromFolder(_folder.Root);

        dataset.Classes.Should().Equal("Zebra", "bird", "cat");
        dataset.ClassToIndex["cat"].Should().Be(2);
        dataset.Samples.Select(s => (Path.GetRelativePath(_folder.Root, s.Path).Replace('\\', '/'), s.Label)).Should().Equal(
            ("Zebra/garbage.png", 0), ("Zebra/z.png", 0),
            ("bird/a.png", 1), ("bird/b.JPG", 1), ("bird/c_truncated.png", 1),
            ("cat/a.png", 2), ("cat/empty.jpg", 2), ("cat/sub/nested.png", 2));
        dataset.Count.Should().Be(8);
        dataset.GetLabel(5).Should().Be(2);
    }

    [Fact]
    public void ReadBatches_SkipsCorruptTruncatedAndEmptyFiles_ReportingAndLoggingEachByName()
    {
        var logger = new ListLogger();
        var dataset = ImageFileSet.FromFolder(_folder.Root, Square8, logger);
        var reported = new List<SkippedImage>();

        var batches = dataset.ReadBatches(3, new ImmediateProgress<SkippedImage>(reported.Add)).ToList();

        batches.SelectMany(b => b.Ids).Should().Equal(1, 2, 3, 5, 7);
        batches.SelectMany(b => b.Labels!).Should().Equal(0, 1, 1, 2, 2);
        batches.Should().OnlyContain(b => b.Images.shape[1] == 3 && b.Images.shape[2] == 8 && b.Images.shape[3] == 8);
        string[] skippedNames = ["garbage.png", "c_truncated.png", "empty.jpg"];
        reported.Select(s => (s.Id, Path.GetFileName(s.Path))).Should().Equal((0L, "garbage.png"), (4L, "c_truncated.png"), (6L, "empty.jpg"));
        reported[1].Reason.Should().Contain("truncated");
        reported[2].Reason.Should().Contain("empty");
        dataset.SkippedCount.Should().Be(3);
        dataset.SkippedImages.Select(s => Path.GetFileName(s.Path)).Should().Equal(skippedNames);
        logger.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message).Should()
            .HaveCount(3).And.SatisfyRespectively(skippedNames.Select(name => (Action<string>)(m => m.Should().Contain(name))));

        dataset.ReadBatches(8).ToList();
        dataset.SkippedCount.Should().Be(3, "a file skipped again is listed once");
    }

    [Fact]
    public void ReadBatches_GiveTheSameImagesAndIds_ForAnyBatchSize()
    {
        using var scope = NewDisposeScope();
        var dataset = ImageFileSet.FromFolder(_folder.Root, Square8);

        var one = dataset.ReadBatches(1).ToList();
        var all = dataset.ReadBatches(100).ToList();

        all.Should().ContainSingle();
        one.SelectMany(b => b.Ids).Should().Equal(all[0].Ids);
        cat(one.Select(b => b.Images).ToList(), 0).allclose(all[0].Images, 0, 0).Should().BeTrue();
    }

    [Fact]
    public void ReadBatches_SplitsABatchWhereTheImageSizeChanges_WithoutResize()
    {
        var dataset = ImageFileSet.FromFolder(_folder.Root, new ImageFileSetOptions { DecodeThreads = 1 });

        var batches = dataset.ReadBatches(16).ToList();

        // z.png is 6 × 8 (w × h), a.png 8 × 6, b.JPG 10 × 10, cat/a.png 8 × 6, nested.png 12 × 9.
        batches.Select(b => (b.Ids.Length, b.Images.shape[2], b.Images.shape[3])).Should().Equal(
            (1, 8L, 6L), (1, 6L, 8L), (1, 10L, 10L), (1, 6L, 8L), (1, 9L, 12L));
    }

    [Fact]
    public void LoadImage_OfASolidPng_GivesThatColourExactly_InChannelsHeightWidthOrder()
    {
        using var scope = NewDisposeScope();
        var dataset = ImageFileSet.FromFolder(_folder.Root);

        Tensor image = dataset.LoadImage(2);

        image.shape.Should().Equal(3, 6, 8);
        var red = ImageFolderFixture.Red;
        Values(image[0]).Should().Equal(red.Red / 255f);
        Values(image[1]).Should().Equal(red.Green / 255f);
        Values(image[2]).Should().Equal(red.Blue / 255f);
        dataset.Invoking(d => d.LoadImage(0)).Should().Throw<InvalidDataException>().WithMessage("*garbage.png*");
        dataset.Invoking(d => d.LoadImage(8)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Grayscale_UsesPilLumaWeights()
    {
        using var scope = NewDisposeScope();
        Tensor grey = ImageTensor.Load(_folder.PathOf("cat/a.png"), new ImagePreprocessing { Grayscale = true });

        grey.shape.Should().Equal(1, 6, 8);
        // PIL: (10·19595 + 200·38470 + 30·7471 + 32768) >> 16 = 8146848 >> 16 = 124.
        Values(grey).Should().Equal(124 / 255f);
    }

    [Theory]
    [InlineData(ImageResizeMode.ShorterSide, 4, null, 4, 5)]
    [InlineData(ImageResizeMode.LongerSide, 4, null, 3, 4)]
    [InlineData(ImageResizeMode.Square, 5, null, 5, 5)]
    [InlineData(ImageResizeMode.ShorterSide, 5, 4, 4, 4)]
    [InlineData(ImageResizeMode.None, 0, 4, 4, 4)]
    public void Preprocessing_GivesTheTorchvisionShape_ForAn8By6Image(ImageResizeMode mode, int size, int? crop, int height, int width)
    {
        using var scope = NewDisposeScope();
        var preprocessing = new ImagePreprocessing { ResizeMode = mode, Size = size, CenterCropSize = crop };

        Tensor image = ImageTensor.Load(_folder.PathOf("bird/a.png"), preprocessing);

        image.shape.Should().Equal(3, height, width);
        Values(image[0]).Should().Equal(ImageFolderFixture.Red.Red / 255f);
    }

    [Fact]
    public void CenterCrop_LargerThanTheImage_PadsZerosAroundIt_AndNormalisationAppliesAfter()
    {
        using var scope = NewDisposeScope();
        var preprocessing = new ImagePreprocessing { CenterCropSize = 10, Mean = [0.5f, 0f, 0f], Std = [0.25f, 1f, 1f] };

        Tensor image = ImageTensor.Load(_folder.PathOf("bird/a.png"), preprocessing);

        image.shape.Should().Equal(3, 10, 10);
        // The 8 × 6 image sits at rows 2..7 and columns 1..8; padding is 0 before normalisation.
        float inside = (ImageFolderFixture.Red.Red / 255f - 0.5f) / 0.25f, outside = (0f - 0.5f) / 0.25f;
        float[] red = image[0].data<float>().ToArray();
        for (int y = 0; y < 10; y++)
            for (int x = 0; x < 10; x++)
                red[y * 10 + x].Should().Be(y is >= 2 and <= 7 && x is >= 1 and <= 8 ? inside : outside, $"pixel ({y}, {x})");
        image[1, 4, 4].item<float>().Should().Be(ImageFolderFixture.Red.Green / 255f);
    }

    [Fact]
    public void ForBackbone_ResizesToInputSizeOver0875_AndCropsToInputSize()
    {
        var info = new BackboneInfo("x", 8, 32, 224, BackboneInfo.ImageNetMean, BackboneInfo.ImageNetStd);
        var preprocessing = ImagePreprocessing.ForBackbone(info);
        (preprocessing.ResizeMode, preprocessing.Size, preprocessing.CenterCropSize, preprocessing.Grayscale).Should().Be((ImageResizeMode.ShorterSide, 256, 224, false));
        preprocessing.Mean.Should().Equal(0.485f, 0.456f, 0.406f);
    }

    [Fact]
    public void BadSettingsAndFolders_AreRejectedWithClearExceptions()
    {
        var missing = Path.Combine(_folder.Root, "nope");
        FluentActions.Invoking(() => ImageFileSet.FromFolder(missing)).Should().Throw<DirectoryNotFoundException>().WithMessage("*nope*");
        FluentActions.Invoking(() => ImageFileSet.FromFolder(_folder.PathOf("cat/sub"))).Should().Throw<ArgumentException>().WithMessage("*no class sub-folders*");
        FluentActions.Invoking(() => ImageFileSet.FromFolder(_folder.Root, new ImageFileSetOptions { Extensions = [".tiff"] }))
            .Should().Throw<ArgumentException>().WithMessage("*no file with an image extension*");
        FluentActions.Invoking(() => ImageFileSet.FromFolder(_folder.Root, new ImageFileSetOptions { Preprocessing = new ImagePreprocessing { ResizeMode = ImageResizeMode.Square } }))
            .Should().Throw<ArgumentException>().WithMessage("*positive Size*");
        FluentActions.Invoking(() => ImageTensor.Load(_folder.PathOf("bird/a.png"), new ImagePreprocessing { Grayscale = true, Mean = [0.1f, 0.2f, 0.3f] }))
            .Should().Throw<ArgumentException>().WithMessage("*Mean must hold 1*");
        ImageFileSet.FromFolder(_folder.Root).Invoking(d => d.ReadBatches(0)).Should().Throw<ArgumentOutOfRangeException>();
    }

    private static float[] Values(Tensor image) => image.data<float>().ToArray().Distinct().ToArray();

    private sealed class ImmediateProgress<T>(Action<T> handler) : IProgress<T>
    {
        public void Report(T value) => handler(value);
    }
}
