using DeepRetrieval.Imaging;
using DeepRetrieval.Torch.Tests.Augmentation;
using DeepRetrieval.Torch.Augmentation;
using DeepRetrieval.Torch.Data;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Data;

public sealed class ImageFileSetStreamingTests : IDisposable
{
    private const int Images = 24;
    private readonly GeneratedImageFolder _folder = new(Images, classes: 3, width: 20, height: 16);

    public void Dispose() => _folder.Dispose();

    private static ImageFileSetOptions Options(int threads, int prefetch, params IImageAugmentation[] augmentations) => new()
    {
        Preprocessing = new ImagePreprocessing { ResizeMode = ImageResizeMode.ShorterSide, Size = 14 },
        Augmentations = augmentations,
        DecodeThreads = threads,
        PrefetchBatches = prefetch,
    };

    private static long[][] Batches(params long[][] batches) => batches;

    [Fact]
    public void ReadTrainingBatches_GiveEverySampleTheSameAugmentation_WhateverTheThreadsPrefetchAndTiming()
    {
        using var scope = NewDisposeScope();
        IImageAugmentation[] augmentations = [new ImageRandomResizedCrop(10, 10), new ImageRandomHorizontalFlip()];
        var sequential = ImageFileSet.FromFolder(_folder.Root, Options(1, 1, augmentations));
        var parallel = ImageFileSet.FromFolder(_folder.Root, Options(4, 3, [new Jitter(), .. augmentations]));
        long[][] epoch = Batches([5, 0, 17, 5], [23, 1, 2, 3], [9, 9, 12, 4], [8, 7, 6, 22]);

        Tensor[] first = sequential.ReadTrainingBatches(epoch, seed: 3, epoch: 0).Select(b => b.Images).ToArray();
        Tensor[] second = parallel.ReadTrainingBatches(epoch, seed: 3, epoch: 0).Select(b => b.Images).ToArray();
        Tensor[] nextEpoch = sequential.ReadTrainingBatches(epoch, seed: 3, epoch: 1).Select(b => b.Images).ToArray();
        Tensor[] otherSeed = sequential.ReadTrainingBatches(epoch, seed: 4, epoch: 0).Select(b => b.Images).ToArray();

        first.Should().HaveCount(4);
        first.Should().OnlyContain(t => t.shape.SequenceEqual(new long[] { 4, 3, 10, 10 }));
        for (int b = 0; b < first.Length; b++)
            first[b].IsEqualTo(second[b]).Should().BeTrue($"batch {b} must not depend on threads, prefetch depth or timing");
        first.Zip(nextEpoch).Count(p => p.First.IsEqualTo(p.Second)).Should().Be(0, "another epoch draws other crops");
        first.Zip(otherSeed).Count(p => p.First.IsEqualTo(p.Second)).Should().Be(0, "another seed draws other crops");
        // Image 5 at positions 0 and 3, image 9 at positions 8 and 9: each position has its own draws.
        first[0][0].IsEqualTo(first[0][3]).Should().BeFalse();
        first[2][0].IsEqualTo(first[2][1]).Should().BeFalse();
    }

    [Fact]
    public void ReadBatches_NeverAugment_AndGiveWhatLoadImageGives_InIdOrder()
    {
        using var scope = NewDisposeScope();
        var set = ImageFileSet.FromFolder(_folder.Root, Options(3, 2, new ImageRandomResizedCrop(10, 10), new ImageRandomHorizontalFlip()) with
        {
            Preprocessing = new ImagePreprocessing { ResizeMode = ImageResizeMode.Square, Size = 12 },
        });

        var batches = set.ReadBatches(5).ToList();

        batches.Select(b => b.Ids.Length).Should().Equal(5, 5, 5, 5, 4);
        batches.SelectMany(b => b.Ids).Should().Equal(Enumerable.Range(0, Images).Select(i => (long)i));
        batches.SelectMany(b => b.Labels!).Should().Equal(set.Samples.Select(s => (long)s.Label));
        Tensor all = cat(batches.Select(b => b.Images).ToList(), 0);
        for (int id = 0; id < Images; id++)
            all[id].IsEqualTo(set.LoadImage(id)).Should().BeTrue($"image {id}");
    }

    [Fact]
    public void Workers_NeverRunMoreThanPrefetchBatchesAheadOfTheConsumer()
    {
        using var scope = NewDisposeScope();
        var counter = new CountingAugmentation();
        const int batchSize = 3, ahead = 2;
        var set = ImageFileSet.FromFolder(_folder.Root, Options(4, ahead, counter));
        long[][] batches = Enumerable.Range(0, 8).Select(b => Enumerable.Range(b * batchSize, batchSize).Select(i => (long)i).ToArray()).ToArray();

        int taken = 0;
        foreach (ImageBatch batch in set.ReadTrainingBatches(batches, 1, 0))
        {
            taken++;
            int bound = Math.Min(batches.Length, taken + ahead) * batchSize;
            // Give the workers time to run as far as they are allowed, then check they stopped there.
            SpinWait.SpinUntil(() => counter.Started >= bound, TimeSpan.FromSeconds(10)).Should().BeTrue($"the workers reach {bound} samples while batch {taken} is held");
            Thread.Sleep(30);
            counter.Started.Should().Be(bound, $"while batch {taken} is held at most {ahead} more batches are prepared");
            batch.Images.Dispose();
        }
        taken.Should().Be(8);
    }

    [Fact]
    public void UnreadableFiles_AreLeftOutOfTheirBatch_ReportedEachRead_LoggedOnce_AndNotReadAgain()
    {
        using var scope = NewDisposeScope();
        File.WriteAllBytes(_folder.Files[4], [1, 2, 3]);
        File.WriteAllBytes(_folder.Files[7], []);
        var logger = new ListLogger();
        var set = ImageFileSet.FromFolder(_folder.Root, Options(2, 1, new ImageRandomResizedCrop(8, 8)), logger);
        long id4 = IdOf(set, 4), id7 = IdOf(set, 7);
        long[][] epoch = Batches([id4, 0, 1], [id7], [2, id4]);
        var reported = new List<SkippedImage>();

        var batches = set.ReadTrainingBatches(epoch, 1, 0, new ImmediateProgress<SkippedImage>(reported.Add)).ToList();
        // Repaired files stay skipped: this set does not read a bad file twice.
        File.Copy(_folder.Files[0], _folder.Files[4], overwrite: true);
        var again = set.ReadTrainingBatches(epoch, 1, 1, new ImmediateProgress<SkippedImage>(reported.Add)).ToList();

        batches.Select(b => b.Ids).Should().BeEquivalentTo(new[] { new long[] { 0, 1 }, [2] }, o => o.WithStrictOrdering(), "a batch left empty is not returned");
        again.SelectMany(b => b.Ids).Should().Equal(0, 1, 2);
        reported.Select(s => s.Id).Should().Equal(id4, id7, id4, id4, id7, id4);
        reported[1].Reason.Should().Contain("empty");
        set.SkippedImages.Select(s => s.Id).Should().Equal(new[] { id4, id7 }.Order());
        logger.Entries.Where(e => e.Level == LogLevel.Warning).Should().HaveCount(2);
    }

    [Fact]
    public void Cache_KeepsThePreprocessedBytes_SoLaterReadsNeedNoFile_AndRespectsItsBudget()
    {
        using var scope = NewDisposeScope();
        var options = Options(2, 1) with { Preprocessing = new ImagePreprocessing { ResizeMode = ImageResizeMode.Square, Size = 10 } };
        var cached = ImageFileSet.FromFolder(_folder.Root, options with { CacheBytes = 1 << 20 });
        var budget = ImageFileSet.FromFolder(_folder.Root, options with { CacheBytes = 2 * 300 + 299 });

        Tensor first = cat(cached.ReadBatches(8).Select(b => b.Images).ToList(), 0);
        budget.ReadBatches(8).ToList();
        foreach (string file in _folder.Files) File.Delete(file);
        Tensor second = cat(cached.ReadBatches(8).Select(b => b.Images).ToList(), 0);

        cached.CachedCount.Should().Be(Images);
        cached.CachedBytes.Should().Be(Images * 10 * 10 * 3, "bytes, not floats, are cached");
        cached.SkippedCount.Should().Be(0);
        second.IsEqualTo(first).Should().BeTrue();
        budget.CachedCount.Should().Be(2);
        budget.CachedBytes.Should().Be(600);
        cached.ClearCache();
        cached.CachedBytes.Should().Be(0);
        cached.ReadBatches(8).SelectMany(b => b.Ids).Should().BeEmpty("the files are gone and the cache is empty");
    }

    [Fact]
    public void Preload_FillsTheCache_AndFindsUnreadableFilesUpFront_ReportingProgress()
    {
        using var scope = NewDisposeScope();
        File.WriteAllBytes(_folder.Files[10], [0xFF, 0xD8, 0xFF]);
        var set = ImageFileSet.FromFolder(_folder.Root, Options(2, 1, new ImageRandomHorizontalFlip()) with { CacheBytes = 1 << 20 });
        var reports = new List<ImageLoadProgress>();

        int readable = set.Preload(new ImmediateProgress<ImageLoadProgress>(reports.Add));
        foreach (string file in _folder.Files) File.Delete(file);
        var batches = set.ReadTrainingBatches([[0, 1, 2, 3]], 1, 0).ToList();

        readable.Should().Be(Images - 1);
        reports.Should().ContainSingle().Which.Should().Be(new ImageLoadProgress(Images - 1, 1, Images));
        set.SkippedImages.Single().Path.Should().Be(_folder.Files[10]);
        set.CachedCount.Should().Be(Images - 1);
        batches.Single().Ids.Should().Equal(0, 1, 2, 3);
        batches.Single().Images.shape.Should().Equal([4L, 3, 14, 17], "20 × 16 with the shorter side to 14 is 17 × 14");
    }

    [Fact]
    public void Cancellation_StopsTheRead_AndItsWorkers()
    {
        using var scope = NewDisposeScope();
        var counter = new CountingAugmentation();
        var set = ImageFileSet.FromFolder(_folder.Root, Options(3, 1, counter));
        long[][] batches = Enumerable.Range(0, 200).Select(b => new long[] { b % Images, (b + 1) % Images }).ToArray();
        using var cancellation = new CancellationTokenSource();

        var read = () =>
        {
            foreach (ImageBatch batch in set.ReadTrainingBatches(batches, 1, 0, null, cancellation.Token))
            {
                batch.Images.Dispose();
                if (batch.Ids[0] == 3) cancellation.Cancel();
            }
        };

        read.Should().Throw<OperationCanceledException>();
        int started = counter.Started;
        Thread.Sleep(50);
        counter.Started.Should().Be(started, "the workers were joined when the read ended");
        started.Should().BeLessThan(20);
    }

    [Fact]
    public void AnAugmentationThatFails_FailsTheRead_InsteadOfSkippingTheImage()
    {
        var set = ImageFileSet.FromFolder(_folder.Root, Options(2, 1, new FailingAugmentation()));

        var read = () => set.ReadTrainingBatches(Batches([0, 1]), 1, 0).ToList();

        read.Should().Throw<InvalidOperationException>().WithMessage("augmentation bug");
        set.SkippedCount.Should().Be(0);
    }

    [Fact]
    public void TrainingBatches_OfImagesOfDifferentSizes_ThrowNamingTheFiles_WhilePlainReadsSplitThem()
    {
        using var scope = NewDisposeScope();
        using var mixed = new ImageFolderFixture();
        var set = ImageFileSet.FromFolder(mixed.Root, new ImageFileSetOptions { DecodeThreads = 2 });

        var read = () => set.ReadTrainingBatches(Batches([1, 2]), 0, 0).ToList();

        read.Should().Throw<InvalidOperationException>().WithMessage("*z.png*a.png*center crop*");
        set.ReadBatches(2).Select(b => b.Ids.Length).Should().Equal(1, 1, 1, 1, 1);
    }

    [Fact]
    public void ReadTrainingBatches_RejectIndicesOutsideTheSet_BeforeReadingAnything()
    {
        var set = ImageFileSet.FromFolder(_folder.Root, Options(1, 1));
        set.Invoking(s => s.ReadTrainingBatches(Batches([0, Images]), 0, 0)).Should().Throw<ArgumentException>().WithMessage($"*Index {Images}*");
        set.Invoking(s => s.ReadTrainingBatches(Batches([-1]), 0, 0)).Should().Throw<ArgumentException>();
        set.Invoking(s => s.ReadBatches(0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => ImageFileSet.FromFolder(_folder.Root, Options(0, 1))).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*DecodeThreads*");
        FluentActions.Invoking(() => ImageFileSet.FromFolder(_folder.Root, Options(1, 0))).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*PrefetchBatches*");
        FluentActions.Invoking(() => ImageFileSet.FromFolder(_folder.Root, Options(1, 1) with { CacheBytes = -1 })).Should().Throw<ArgumentOutOfRangeException>();
    }

    private long IdOf(ImageFileSet set, int generated) => set.Samples.Select((s, id) => (s.Path, id)).Single(p => p.Path == _folder.Files[generated]).id;

    // Sleeps a random few milliseconds (not from the sample's generator) so workers finish out of order.
    private sealed class Jitter : IImageAugmentation
    {
        public PixelImage Apply(PixelImage image, Random random)
        {
            Thread.Sleep(Random.Shared.Next(3));
            return image;
        }
    }

    private sealed class CountingAugmentation : IImageAugmentation
    {
        private int _started;

        public int Started => Volatile.Read(ref _started);

        public PixelImage Apply(PixelImage image, Random random)
        {
            Interlocked.Increment(ref _started);
            return image;
        }
    }

    private sealed class FailingAugmentation : IImageAugmentation
    {
        public PixelImage Apply(PixelImage image, Random random) => throw new InvalidOperationException("augmentation bug");
    }
}

/// <summary>IProgress that reports synchronously on the calling thread.</summary>
internal sealed class ImmediateProgress<T>(Action<T> handler) : IProgress<T>
{
    public void Report(T value) => handler(value);
}
