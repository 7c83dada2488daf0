using DeepRetrieval.Imaging.IO;
using DeepRetrieval.Imaging.Processing;
using Microsoft.Extensions.Logging;

namespace DeepRetrieval.Imaging.Tests.IO;

public sealed class ImageFolderReaderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("imaging-folder-").FullName;

    public ImageFolderReaderTests()
    {
        Write("b.png", Reference.Data.Files["png"].Bytes);
        Write("a.BMP", Reference.Data.Files["bmp"].Bytes);
        Write("sub/c.gif", Reference.Data.Files["gif"].Bytes);
        Write("sub/deeper/d.webp", Reference.Data.Files["webp"].Bytes);
        Write("empty.jpg", []);
        Write("sub/text.png", "not an image"u8.ToArray());
        Write("notes.txt", "ignored: not an image extension"u8.ToArray());
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void ListFiles_IsSortedByRelativePath_AndFiltersExtensions()
    {
        IReadOnlyList<string> files = ImageFolderReader.ListFiles(_root);
        files.Select(f => Path.GetRelativePath(_root, f).Replace('\\', '/'))
            .Should().Equal("a.BMP", "b.png", "empty.jpg", "sub/c.gif", "sub/deeper/d.webp", "sub/text.png");
        ImageFolderReader.ListFiles(_root, new ImageFolderOptions { Recursive = false }).Should().HaveCount(3);
        ImageFolderReader.ListFiles(_root, new ImageFolderOptions { Extensions = [".gif"] }).Should().ContainSingle();
        ImageFolderReader.ListFiles(_root, new ImageFolderOptions { MaxDepth = 1 }).Should().HaveCount(5, "depth 1 reaches sub/ but not sub/deeper/");
    }

    [Fact]
    public async Task ReadFolderAsync_YieldsGoodImagesInOrder_AndReportsBadOnes()
    {
        var logger = new ListLogger();
        var reports = new List<ImageReadProgress>();
        var reader = new ImageFolderReader(new ImageFolderOptions { DecodeThreads = 2, QueueCapacity = 2 }, logger);
        var images = new List<LoadedImage>();
        await foreach (LoadedImage image in reader.ReadFolderAsync(_root, new SynchronousProgress<ImageReadProgress>(reports.Add)))
            images.Add(image);

        images.Select(i => i.RelativePath).Should().Equal("a.BMP", "b.png", "sub/c.gif", "sub/deeper/d.webp");
        images.Select(i => i.Index).Should().Equal(0, 1, 3, 4);
        string[] formats = ["bmp", "png", "gif", "webp"];
        for (int i = 0; i < 4; i++)
            Reference.Sha256(images[i].Image).Should().Be(Reference.Data.Files[formats[i]].RgbSha256, images[i].RelativePath);
        reader.Skipped.Select(s => s.Index).Should().Equal(2, 5);
        reader.Skipped.Should().AllSatisfy(s => s.Error.Should().BeOfType<InvalidDataException>());
        reader.Skipped[0].Reason.Should().Contain("empty.jpg").And.Contain("empty");
        logger.Warnings.Should().HaveCount(2).And.Contain(w => w.Contains("text.png", StringComparison.Ordinal));
        reports.Select(r => r.Completed).Should().Equal(1, 2, 3, 4, 5, 6);
        reports[^1].Should().Be(new ImageReadProgress(6, 6, 2, Path.Combine(_root, "sub", "text.png")));
    }

    [Fact]
    public async Task ReadAsync_NeverHoldsMoreThanTheQueueCapacity()
    {
        for (int i = 0; i < 30; i++)
            Write($"many/{i:D2}.png", Reference.Data.Files["png"].Bytes);
        int produced = 0, consumed = 0, worst = 0;
        var options = new ImageFolderOptions
        {
            DecodeThreads = 3,
            QueueCapacity = 4,
            Transform = image =>
            {
                Interlocked.Increment(ref produced);
                return image.Resize(8, 8, ResizeFilter.Box);
            },
        };
        await foreach (LoadedImage image in new ImageFolderReader(options).ReadFolderAsync(Path.Combine(_root, "many")))
        {
            image.Image.Width.Should().Be(8);
            await Task.Delay(5);
            worst = Math.Max(worst, Volatile.Read(ref produced) - consumed);
            consumed++;
        }
        consumed.Should().Be(30);
        worst.Should().BeLessThanOrEqualTo(4);
    }

    [Fact]
    public void ReadFolder_Stops_WhenCancelled()
    {
        using var cancel = new CancellationTokenSource();
        var reader = new ImageFolderReader(new ImageFolderOptions { DecodeThreads = 1 });
        var progress = new SynchronousProgress<ImageReadProgress>(_ => cancel.Cancel());
        ((Action)(() => reader.ReadFolder(_root, progress, cancel.Token))).Should().Throw<OperationCanceledException>();
    }

    [Fact]
    public async Task ReadFilesAsync_SkipsMissingFiles_AndTransformErrors()
    {
        string good = Path.Combine(_root, "b.png"), missing = Path.Combine(_root, "gone.png");
        var reader = new ImageFolderReader(new ImageFolderOptions
        {
            Transform = image => image.CenterCrop(10),
        });
        var read = new List<LoadedImage>();
        await foreach (LoadedImage image in reader.ReadFilesAsync([missing, good]))
            read.Add(image);
        read.Should().ContainSingle().Which.Image.Width.Should().Be(10);
        reader.Skipped.Should().ContainSingle().Which.Error.Should().BeOfType<FileNotFoundException>();

        var failing = new ImageFolderReader(new ImageFolderOptions { Transform = _ => throw new InvalidOperationException("boom") });
        await foreach (LoadedImage _ in failing.ReadFilesAsync([good]))
            throw new InvalidOperationException("no image should come through");
        failing.Skipped.Should().ContainSingle().Which.Reason.Should().Be("boom");
    }

    [Fact]
    public async Task ReadAsync_SurfacesFailuresOfTheRun_WithoutHanging()
    {
        // Out of memory is not a bad file: the enumeration fails with it instead of skipping the file.
        var reader = new ImageFolderReader(new ImageFolderOptions
        {
            DecodeThreads = 3,
            QueueCapacity = 1,
            Transform = _ => throw new OutOfMemoryException("simulated"),
        });
        Func<Task> read = async () =>
        {
            await foreach (LoadedImage _ in reader.ReadFolderAsync(_root))
            {
            }
        };
        (await read.Should().ThrowAsync<OutOfMemoryException>().WaitAsync(TimeSpan.FromSeconds(30))).WithMessage("simulated");
    }

    [Fact]
    public void BadArguments_AreRejected()
    {
        ((Action)(() => ImageFolderReader.ListFiles(Path.Combine(_root, "nowhere")))).Should().Throw<DirectoryNotFoundException>();
        ((Action)(() => new ImageFolderReader(new ImageFolderOptions { DecodeThreads = 0 }))).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => new ImageFolderReader(new ImageFolderOptions { Extensions = ["png"] }))).Should().Throw<ArgumentException>();
    }

    private void Write(string relative, byte[] bytes)
    {
        string path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
    }

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    private sealed class ListLogger : ILogger
    {
        public List<string> Warnings { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning)
                lock (Warnings)
                    Warnings.Add(formatter(state, exception));
        }
    }
}
