using System.Diagnostics;
using System.Globalization;
using DeepRetrieval.Bench;
using DeepRetrieval.Imaging;
using DeepRetrieval.Torch.Augmentation;
using DeepRetrieval.Torch.Data;
using DeepRetrieval.Torch.Losses;
using DeepRetrieval.Torch.Miners;
using DeepRetrieval.Torch.Models;
using DeepRetrieval.Torch.Training;
using DeepRetrieval.TrainingBench;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

// Streams one training epoch from a folder of real photos and reports images/s and peak memory. By default the photos
// Debian ships in gnome-backgrounds, mate-backgrounds and plasma-workspace-wallpapers (about 120, most 1920 × 1080 to
// 5120 × 2880); an image's class is its theme folder. Each photo is decoded, its shorter side resized to 256 (PIL's
// antialiased bilinear), then RandomResizedCrop(224) and a random horizontal flip on the decoding threads.
//   dotnet run -c Release --project benchmarks/DeepRetrieval.TrainingBench -- [--model resnet18] [--batch 16]
//       [--threads 2] [--draft] [--epochs 1] [--data-only] [folder ...]
// --data-only reads the augmented batches without a model (the data pipeline's own rate); --draft decodes JPEGs at a
// reduced scale (PIL's draft mode) before resizing.
return BenchCommandLine.Invoke(Settings.CreateCommand(Run), args);

static int Run(Settings settings)
{
    List<(string Path, string Class)> photos = Photos(settings.Folders);
    if (photos.Count == 0)
    {
        Console.Error.WriteLine($"error: no photos under {string.Join(", ", settings.Folders)}; install gnome-backgrounds, mate-backgrounds and plasma-workspace-wallpapers.");
        return 1;
    }
    using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
    var set = ImageFileSet.FromList(photos, new ImageFileSetOptions
    {
        Preprocessing = new ImagePreprocessing
        {
            ResizeMode = ImageResizeMode.ShorterSide,
            Size = 256,
            // Values in [0, 1]: a RetrievalModel normalises with its backbone's mean and std itself.
            Decode = new ImageDecodeOptions { DraftSize = settings.Draft ? new ImageSize(256, 256) : null },
        },
        Augmentations = [new ImageRandomResizedCrop(224, 224), new ImageRandomHorizontalFlip()],
        DecodeThreads = settings.Threads,
    }, loggers.CreateLogger("images"));

    Console.WriteLine($"{set.Count} photos in {set.Classes.Count} classes; {settings.Threads} decoding threads, torch threads {get_num_threads()}, "
        + $"TurboJPEG {(ImageDecoder.UsesSystemTurboJpeg ? "on" : "off")}, draft {(settings.Draft ? "on" : "off")}, {Environment.ProcessorCount} cores");

    var clock = Stopwatch.StartNew();
    long images = 0;
    if (settings.DataOnly)
    {
        var random = new Random(1);
        for (int epoch = 0; epoch < settings.Epochs; epoch++)
        {
            long[] order = [.. Enumerable.Range(0, (int)set.Count).Select(i => (long)i).OrderBy(_ => random.Next())];
            long[][] batches = order.Chunk(settings.Batch).ToArray();
            foreach (ImageBatch batch in set.ReadTrainingBatches(batches, seed: 1, epoch))
            {
                images += batch.Ids.Length;
                batch.Images.Dispose();
            }
        }
    }
    else
    {
        using var scope = NewDisposeScope();
        var model = new RetrievalModel(RetrievalModelConfig.For(settings.Model, embeddingDimension: 128), seed: 1);
        using var loss = new TripletMarginLoss(0.1);
        var options = new TrainerOptions
        {
            Epochs = settings.Epochs, BatchSize = settings.Batch, Seed = 1, Miner = new BatchHardMiner(), Optimizer = OptimizerKind.AdamW,
            Progress = new Progress<TrainingProgress>(p => Console.Error.Write($"\repoch {p.Epoch} batch {p.Batch}/{p.BatchCount}, {p.ImagesPerSecond:F1} img/s   ")),
        };
        using var trainer = new EmbeddingTrainer(model, loss, options);
        TrainingHistory history = trainer.Fit(set);
        Console.Error.WriteLine();
        // The trainer drops the last, short batch of each epoch.
        images = history.Epochs.Count * (set.Count / settings.Batch * settings.Batch) - set.SkippedCount;
        Console.WriteLine(string.Join("; ", history.Epochs.Select(e => string.Create(CultureInfo.InvariantCulture,
            $"epoch {e.Epoch}: loss {e.TrainLoss:F3}, {e.ImagesPerSecond:F2} images/s"))));
    }
    double seconds = clock.Elapsed.TotalSeconds;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{(settings.DataOnly ? "data pipeline" : settings.Model + " training")}: {images} images in {seconds:F1} s = {images / seconds:F2} images/s; "
        + $"peak RSS {Status("VmHWM") / 1024.0:F0} MiB, managed heap {GC.GetTotalMemory(false) / 1048576.0:F0} MiB ({GC.GetTotalMemory(true) / 1048576.0:F0} MiB live), "
        + $"{set.SkippedCount} unreadable"));
    return 0;
}

static List<(string Path, string Class)> Photos(IReadOnlyList<string> folders)
{
    string[] extensions = [".jpg", ".jpeg", ".png", ".webp"];
    var photos = new List<(string, string)>();
    foreach (string folder in folders.Where(Directory.Exists))
    {
        foreach (string theme in Directory.GetDirectories(folder).Order(StringComparer.Ordinal))
        {
            photos.AddRange(Directory.EnumerateFiles(theme, "*", SearchOption.AllDirectories)
                // The KDE themes link one photo under several resolution names; count each photo once.
                .Where(f => extensions.Contains(Path.GetExtension(f).ToLowerInvariant()) && new FileInfo(f).LinkTarget is null)
                .Order(StringComparer.Ordinal)
                .Select(f => (f, Path.GetFileName(theme))));
        }
    }
    return photos;
}

static long Status(string field)
{
    string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
    return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
}
