using DeepRetrieval.Torch.Tests.Augmentation;
using DeepRetrieval.Torch.Augmentation;
using DeepRetrieval.Torch.Backbones;
using DeepRetrieval.Torch.Data;
using DeepRetrieval.Torch.Losses;
using DeepRetrieval.Torch.Samplers;
using DeepRetrieval.Torch.Tests.Data;
using DeepRetrieval.Torch.Training;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static DeepRetrieval.Torch.Tests.Training.TrainingTestKit;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Training;

/// <summary>The trainer on an <see cref="ImageFileSet"/>: files decoded and augmented on worker threads while it trains.</summary>
public sealed class StreamingTrainingTests : IDisposable
{
    private readonly GeneratedImageFolder _folder = new(24, classes: 4, width: 14, height: 12);

    public void Dispose() => _folder.Dispose();

    private ImageFileSet Files(params IImageAugmentation[] augmentations) => ImageFileSet.FromFolder(_folder.Root, new ImageFileSetOptions
    {
        Preprocessing = new ImagePreprocessing { ResizeMode = ImageResizeMode.Square, Size = 10, Mean = [0.5f, 0.5f, 0.5f], Std = [0.25f, 0.25f, 0.25f] },
        Augmentations = augmentations,
        DecodeThreads = 3,
        PrefetchBatches = 2,
    });

    private static nn.Module<Tensor, Tensor> Model(ulong seed)
    {
        var model = nn.Sequential(new SmallCnn(3, [4, 4, 4, 4, 4]), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 6));
        using var generator = new Generator(seed);
        using var noGrad = no_grad();
        foreach (var p in model.parameters()) p.copy_(randn(p.shape, generator: generator) * 0.3);
        return model;
    }

    private static void OnOneThread(Action action)
    {
        int threads = get_num_threads();
        set_num_threads(1);
        try
        {
            action();
        }
        finally
        {
            set_num_threads(threads);
        }
    }

    [Fact]
    public void Fit_OnFiles_TrainsExactlyAsOnTheSameImagesInMemory_WithAPerClassSampler() => OnOneThread(() =>
    {
        using var scope = NewDisposeScope();
        ImageFileSet files = Files();
        var decoded = files.ReadBatches(100).Single();
        using var memory = new TensorImageSet(decoded.Images, tensor(decoded.Labels!));
        TrainerOptions Options(ITrainingImageSource set) => new()
        {
            Epochs = 2, Seed = 5, LearningRate = 0.01, Optimizer = OptimizerKind.Adam,
            Sampler = new MPerClassSampler(set.Labels!, m: 2, batchSize: 8, lengthBeforeNewIter: 24, seed: 5),
        };
        var fromFiles = Model(3);
        var fromMemory = Model(3);

        using (var trainer = new EmbeddingTrainer(fromFiles, new TripletMarginLoss(0.2), Options(files)))
            trainer.Fit(files, files);
        using (var trainer = new EmbeddingTrainer(fromMemory, new TripletMarginLoss(0.2), Options(memory)))
            trainer.Fit(memory, memory);

        var expected = Snapshot(fromMemory);
        foreach (var (key, value) in Snapshot(fromFiles))
            value.IsEqualTo(expected[key]).Should().BeTrue($"{key}: the streamed batches are the in-memory batches");
    });

    [Fact]
    public void Fit_WithPerSampleAugmentation_ResumesBitIdentically_AndValidatesOnUnaugmentedImages() => OnOneThread(() =>
    {
        using var scope = NewDisposeScope();
        ImageFileSet train = Files(new ImageRandomResizedCrop(8, 8, 0.5), new ImageRandomHorizontalFlip());
        ImageFileSet validation = ImageFileSet.FromFolder(_folder.Root, train.Options with
        {
            Preprocessing = train.Options.Preprocessing with { Size = 8 },
            Augmentations = [],
        });
        string path = Path.Combine(Path.GetTempPath(), $"stream-resume-{Guid.NewGuid():N}.ckpt");
        try
        {
            TrainerOptions Options(int epochs, string? checkpoint) => new()
            {
                Epochs = epochs, BatchSize = 8, Seed = 9, LearningRate = 0.01, CheckpointPath = checkpoint,
            };
            var straight = Model(4);
            var resumed = Model(4);
            using (var trainer = new EmbeddingTrainer(straight, new TripletMarginLoss(0.2), Options(2, null)))
                trainer.Fit(train, validation).Epochs.Should().OnlyContain(e => double.IsFinite(e.TrainLoss) && double.IsFinite(e.MapAtR));
            using (var first = new EmbeddingTrainer(resumed, new TripletMarginLoss(0.2), Options(1, path)))
                first.Fit(train, validation);
            var again = Model(99);
            using (var second = new EmbeddingTrainer(again, new TripletMarginLoss(0.2), Options(2, path)))
            {
                second.Resume(path);
                second.Fit(train, validation);
            }

            var expected = Snapshot(straight);
            foreach (var (key, value) in Snapshot(again))
                value.IsEqualTo(expected[key]).Should().BeTrue($"{key}: epoch 2's crops are drawn from (seed, epoch, position), not from the run's history");
        }
        finally
        {
            File.Delete(path);
        }
    });

    [Fact]
    public void Fit_LeavesUnreadableFilesOutOfTheirBatches_AndLogsTheirCountPerEpoch()
    {
        using var scope = NewDisposeScope();
        File.WriteAllText(_folder.Files[5], "not an image");
        ImageFileSet train = Files();
        var logger = new ListLogger();
        var progress = new ProgressLog();

        using var trainer = new EmbeddingTrainer(Model(1), new TripletMarginLoss(0.2),
            new TrainerOptions { Epochs = 1, BatchSize = 6, DropLast = false, Seed = 1, Logger = logger, Progress = progress });
        trainer.Fit(train);

        progress.Reports.Should().HaveCount(4);
        train.SkippedImages.Single().Path.Should().Be(_folder.Files[5]);
        logger.Entries.Should().Contain(e => e.Level == LogLevel.Warning && e.Message.Contains("1 unreadable images"));
    }

    [Fact]
    public void Fit_RejectsAFileSetWithoutLabels()
    {
        var unlabeled = ImageFileSet.FromFiles(_folder.Files);
        using var trainer = new EmbeddingTrainer(Model(1), new TripletMarginLoss(0.2), new TrainerOptions { Epochs = 1, BatchSize = 4 });
        trainer.Invoking(t => t.Fit(unlabeled)).Should().Throw<ArgumentException>().WithMessage("*no labels*");
    }
}
