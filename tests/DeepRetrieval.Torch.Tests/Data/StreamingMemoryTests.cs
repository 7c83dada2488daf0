using System.Diagnostics;
using DeepRetrieval.Torch.Augmentation;
using DeepRetrieval.Torch.Data;
using DeepRetrieval.Torch.Extraction;
using DeepRetrieval.Torch.Losses;
using DeepRetrieval.Torch.Training;
using SkiaSharp;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Data;

/// <summary>
/// Streaming keeps memory bounded: an epoch of training and an extraction over 1,800 generated 96 × 96 JPEGs peak at the
/// same managed and native memory as over 600. Held whole as floats, the 1,200 extra images would take 127 MiB.
/// </summary>
public sealed class StreamingMemoryTests(ITestOutputHelper output)
{
    private const long MiB = 1 << 20;

    [Fact]
    public void AnEpochOfTrainingAndExtraction_PeaksAtTheSameMemory_ForThreeTimesAsManyImages()
    {
        var clock = Stopwatch.StartNew();
        using var small = new GeneratedImageFolder(600, classes: 10, width: 96, height: 96, SKEncodedImageFormat.Jpeg);
        using var large = new GeneratedImageFolder(1_800, classes: 10, width: 96, height: 96, SKEncodedImageFormat.Jpeg);
        output.WriteLine($"generated 2,400 JPEGs in {clock.Elapsed.TotalSeconds:F1} s");
        // A first, short run pays for JIT compilation, thread and allocator start-up; only the next two are compared.
        output.WriteLine("warm-up: " + TrainAndExtract(small.Root, limit: 200));

        Peak smallPeak = Measure(() => output.WriteLine(TrainAndExtract(small.Root)));
        Peak largePeak = Measure(() => output.WriteLine(TrainAndExtract(large.Root)));

        output.WriteLine($"600 images: {smallPeak}; 1,800 images: {largePeak}");
        double floatsOfTheExtraImages = 1_200.0 * 3 * 96 * 96 * sizeof(float) / MiB;
        (largePeak.ResidentBytes - smallPeak.ResidentBytes).Should().BeLessThan(40 * MiB,
            $"peak RSS must not grow with the image count (the extra images as floats are {floatsOfTheExtraImages:F0} MiB)");
        (largePeak.ManagedBytes - smallPeak.ManagedBytes).Should().BeLessThan(24 * MiB, "the managed heap must not grow with the image count");
        largePeak.ManagedBytes.Should().BeLessThan(160 * MiB, "a few prefetched batches, not the data set, live on the managed heap");
    }

    private static string TrainAndExtract(string root, int? limit = null)
    {
        using var scope = NewDisposeScope();
        var all = ImageFileSet.FromFolder(root);
        var set = new ImageFileSet(all.Samples.Take(limit ?? all.Samples.Count), all.Classes, new ImageFileSetOptions
        {
            Augmentations = [new ImageRandomResizedCrop(64, 64), new ImageRandomHorizontalFlip()],
            Preprocessing = new ImagePreprocessing { Mean = [0.5f, 0.5f, 0.5f], Std = [0.25f, 0.25f, 0.25f] },
            DecodeThreads = 2,
            PrefetchBatches = 2,
        });
        var model = nn.Sequential(nn.Conv2d(3, 8, 3, stride: 4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 16));
        var clock = Stopwatch.StartNew();
        using (var trainer = new EmbeddingTrainer(model, new TripletMarginLoss(0.2), new TrainerOptions { Epochs = 1, BatchSize = 50, Seed = 1 }))
            trainer.Fit(set).Epochs.Single().TrainLoss.Should().BeGreaterThanOrEqualTo(0);
        double training = clock.Elapsed.TotalSeconds;
        ExtractedFeatures features = new FeatureExtractor(model, new FeatureExtractorOptions { BatchSize = 100 }).Extract(set);
        features.Count.Should().Be((int)set.Count);
        return $"{set.Count} images: training {training:F1} s, extraction {clock.Elapsed.TotalSeconds - training:F1} s";
    }

    // Peak resident set size (/proc/self/status VmHWM, reset through /proc/self/clear_refs: native and managed memory
    // together, libtorch's allocations included) and the largest managed heap seen by a sampler every few milliseconds.
    private static Peak Measure(Action run)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        File.WriteAllText("/proc/self/clear_refs", "5");
        long managed = GC.GetTotalMemory(false);
        using var done = new ManualResetEventSlim();
        var sampler = new Thread(() =>
        {
            while (!done.Wait(2))
                managed = Math.Max(managed, GC.GetTotalMemory(false));
        });
        sampler.Start();
        var clock = Stopwatch.StartNew();
        try
        {
            run();
        }
        finally
        {
            done.Set();
            sampler.Join();
        }
        return new Peak(StatusKilobytes("VmHWM") * 1024, managed, clock.Elapsed);
    }

    private static long StatusKilobytes(string field)
    {
        string line = File.ReadLines("/proc/self/status").Single(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    private sealed record Peak(long ResidentBytes, long ManagedBytes, TimeSpan Elapsed)
    {
        public override string ToString() => $"peak RSS {ResidentBytes / (double)MiB:F0} MiB, peak managed {ManagedBytes / (double)MiB:F0} MiB, {Elapsed.TotalSeconds:F1} s";
    }
}
