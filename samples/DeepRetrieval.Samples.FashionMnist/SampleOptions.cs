using System.CommandLine;
using System.CommandLine.Parsing;

namespace DeepRetrieval.Samples.FashionMnist;

/// <summary>The sample's command line (System.CommandLine) and the options it yields.</summary>
internal sealed record SampleOptions
{
    public string? DataDirectory { get; init; }
    public string? DownloadDirectory { get; init; }
    public bool UseEmbeddedSubset { get; init; }
    public required string OutputDirectory { get; init; }
    public int Epochs { get; init; }
    public int BatchSize { get; init; }
    public int ImagesPerClass { get; init; }
    public bool RandomBatches { get; init; }
    public double MaxLearningRate { get; init; }
    public double ClassWeightLearningRate { get; init; }
    public int EmbeddingDimension { get; init; }
    public required string Head { get; init; }
    public double Margin { get; init; }
    public double Scale { get; init; }
    public double TripletWeight { get; init; }
    public int Threads { get; init; }
    public int Seed { get; init; }
    public int HnswM { get; init; }
    public int HnswEf { get; init; }
    public string? SaveModelPath { get; init; }
    public string? LoadModelPath { get; init; }
    public bool Rerank { get; init; }
    public string? ExportEmbeddingsDirectory { get; init; }

    private static readonly Option<int> EpochsOption = new("--epochs") { Description = "Training epochs (the reference run uses 8)", DefaultValueFactory = _ => 2 };
    private static readonly Option<string?> DataDirOption = new("--data-dir") { Description = "Read the four IDX files from DIR (plain or .gz)" };
    private static readonly Option<string?> DownloadOption = new("--download") { Description = "Download Fashion-MNIST into DIR first (needs the internet), then use it" };
    private static readonly Option<bool> SubsetOption = new("--subset") { Description = "Use the embedded subset (6,000 train / 1,000 test) even if the full set is present" };
    private static readonly Option<string> OutOption = new("--out") { Description = "Output directory", DefaultValueFactory = _ => Path.Combine("out", "fashion-mnist") };
    private static readonly Option<int> BatchSizeOption = new("--batch-size") { Description = "Images per batch (250 = 25 of each of the 10 classes)", DefaultValueFactory = _ => 250 };
    private static readonly Option<int> PerClassOption = new("--m") { Description = "Images per class in a batch", DefaultValueFactory = _ => 25 };
    private static readonly Option<bool> RandomBatchesOption = new("--random-batches") { Description = "Shuffle the training set instead of M-per-class batches" };
    private static readonly Option<double> LearningRateOption = new("--lr") { Description = "One-cycle peak learning rate of the network", DefaultValueFactory = _ => 3e-3 };
    private static readonly Option<double> ClassLearningRateOption = new("--class-lr") { Description = "One-cycle peak learning rate of ArcFace's class centres", DefaultValueFactory = _ => 1e-2 };
    private static readonly Option<int> DimensionOption = new("--dim") { Description = "Embedding dimension", DefaultValueFactory = _ => 128 };
    private static readonly Option<string> HeadOption = new("--head") { Description = "bnneck (linear + batch norm with a frozen shift) or linear_bn (learnable shift)", DefaultValueFactory = _ => "bnneck" };
    private static readonly Option<double> MarginOption = new("--margin") { Description = "ArcFace additive angular margin in radians", DefaultValueFactory = _ => 0.5 };
    private static readonly Option<double> ScaleOption = new("--scale") { Description = "ArcFace scale", DefaultValueFactory = _ => 30 };
    private static readonly Option<double> TripletOption = new("--triplet") { Description = "Add a batch-hard triplet loss on the pre-BN embedding with this weight (0 = off)" };
    private static readonly Option<int> ThreadsOption = new("--threads") { Description = "Torch threads", DefaultValueFactory = _ => 2 };
    private static readonly Option<int> SeedOption = new("--seed") { Description = "Seed of weights, batches and augmentation" };
    private static readonly Option<int> HnswMOption = new("--hnsw-m") { Description = "HNSW links per node", DefaultValueFactory = _ => 16 };
    private static readonly Option<int> EfOption = new("--ef") { Description = "HNSW efConstruction and efSearch", DefaultValueFactory = _ => 200 };
    private static readonly Option<string?> SaveModelOption = new("--save-model") { Description = "Save the trained retrieval model (one file, restorable with RetrievalModel.Load)" };
    private static readonly Option<string?> LoadModelOption = new("--load-model") { Description = "Skip training and use a model saved with --save-model" };
    private static readonly Option<bool> RerankOption = new("--rerank") { Description = "Re-rank the HNSW results (docs/reranking.md) and print the metrics before and after" };
    private static readonly Option<string?> ExportOption = new("--export-embeddings") { Description = "Also write the training and test embeddings to DIR/train.npy and DIR/test.npy (float32, one row per image in file order)" };

    /// <summary>The root command: every option, its validation, and <paramref name="run"/> as its action.</summary>
    public static RootCommand CreateCommand(Func<SampleOptions, CancellationToken, Task<int>> run)
    {
        var command = new RootCommand(
            "Fashion-MNIST end to end: trains a small CNN + GeM + BNNeck embedding with ArcFace (optionally + triplet) on " +
            "M-per-class batches, embeds the test images, indexes them with HNSW, lets every test image query the others " +
            "(itself excluded), prints Precision@1, MAP@R, R-Precision and Recall@K, and writes metrics.json, history.csv, " +
            "training-curve.png and result-grid.png. Without --data-dir the full set is taken from $FASHION_MNIST_DIR or " +
            "/usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist) when present, else the embedded subset. " +
            "Exit codes: 0 success, 1 run failure, 2 bad options.")
        {
            EpochsOption, DataDirOption, DownloadOption, SubsetOption, OutOption, BatchSizeOption, PerClassOption, RandomBatchesOption,
            LearningRateOption, ClassLearningRateOption, DimensionOption, HeadOption, MarginOption, ScaleOption, TripletOption,
            ThreadsOption, SeedOption, HnswMOption, EfOption, SaveModelOption, LoadModelOption, RerankOption, ExportOption,
        };
        foreach (Option<int> option in new[] { EpochsOption, BatchSizeOption, PerClassOption, DimensionOption, ThreadsOption, HnswMOption, EfOption })
            Positive(option);
        foreach (Option<double> option in new[] { LearningRateOption, ClassLearningRateOption, ScaleOption })
            Positive(option);
        NonNegative(MarginOption);
        NonNegative(TripletOption);
        SeedOption.Validators.Add(SkipUnconverted<OptionResult>(result =>
        {
            if (result.GetValueOrDefault<int>() < 0) result.AddError("--seed needs a non-negative integer.");
        }));
        HeadOption.AcceptOnlyFromAmong("bnneck", "linear_bn");
        command.SetAction((parse, cancellationToken) =>
        {
            // Checked here, not in a command validator: System.CommandLine shows those an option left at its default as 0.
            int batch = parse.GetValue(BatchSizeOption), perClass = parse.GetValue(PerClassOption);
            if (!parse.GetValue(RandomBatchesOption) && batch % perClass != 0)
            {
                Console.Error.WriteLine($"error: --batch-size {batch} must be a multiple of --m {perClass} (or use --random-batches).");
                return Task.FromResult(2);
            }
            return run(new SampleOptions
            {
                Epochs = parse.GetValue(EpochsOption),
                DataDirectory = parse.GetValue(DataDirOption),
                DownloadDirectory = parse.GetValue(DownloadOption),
                UseEmbeddedSubset = parse.GetValue(SubsetOption),
                OutputDirectory = parse.GetRequiredValue(OutOption),
                BatchSize = parse.GetValue(BatchSizeOption),
                ImagesPerClass = parse.GetValue(PerClassOption),
                RandomBatches = parse.GetValue(RandomBatchesOption),
                MaxLearningRate = parse.GetValue(LearningRateOption),
                ClassWeightLearningRate = parse.GetValue(ClassLearningRateOption),
                EmbeddingDimension = parse.GetValue(DimensionOption),
                Head = parse.GetRequiredValue(HeadOption),
                Margin = parse.GetValue(MarginOption),
                Scale = parse.GetValue(ScaleOption),
                TripletWeight = parse.GetValue(TripletOption),
                Threads = parse.GetValue(ThreadsOption),
                Seed = parse.GetValue(SeedOption),
                HnswM = parse.GetValue(HnswMOption),
                HnswEf = parse.GetValue(EfOption),
                SaveModelPath = parse.GetValue(SaveModelOption),
                LoadModelPath = parse.GetValue(LoadModelOption),
                Rerank = parse.GetValue(RerankOption),
                ExportEmbeddingsDirectory = parse.GetValue(ExportOption),
            }, cancellationToken);
        });
        return command;
    }

    private static void Positive<T>(Option<T> option) where T : struct, IComparable<T> =>
        option.Validators.Add(SkipUnconverted<OptionResult>(result =>
        {
            T value = result.GetValueOrDefault<T>();
            if (value.CompareTo(default) <= 0 || (value is double d && !double.IsFinite(d)))
                result.AddError($"{option.Name} needs a positive number; got {value}.");
        }));

    private static void NonNegative(Option<double> option) =>
        option.Validators.Add(SkipUnconverted<OptionResult>(result =>
        {
            double value = result.GetValueOrDefault<double>();
            if (!(value >= 0) || !double.IsFinite(value)) result.AddError($"{option.Name} needs a non-negative number; got {value}.");
        }));

    // System.CommandLine runs validators even after a value failed to convert (it reports that error itself), and reading
    // such a value throws; the check is skipped then.
    private static Action<T> SkipUnconverted<T>(Action<T> validate) where T : SymbolResult => result =>
    {
        try
        {
            validate(result);
        }
        catch (InvalidOperationException)
        {
            // The parser has already reported the value.
        }
    };
}
