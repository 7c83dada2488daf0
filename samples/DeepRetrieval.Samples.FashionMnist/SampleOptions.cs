namespace DeepRetrieval.Samples.FashionMnist;

/// <summary>Command-line options of the sample.</summary>
internal sealed record SampleOptions
{
    public string? DataDirectory { get; init; }
    public string? DownloadDirectory { get; init; }
    public bool UseEmbeddedSubset { get; init; }
    public string OutputDirectory { get; init; } = Path.Combine("out", "fashion-mnist");
    public int Epochs { get; init; } = 2;
    public int BatchSize { get; init; } = 250;
    public int ImagesPerClass { get; init; } = 25;
    public bool RandomBatches { get; init; }
    public double MaxLearningRate { get; init; } = 3e-3;
    public double ClassWeightLearningRate { get; init; } = 1e-2;
    public int EmbeddingDimension { get; init; } = 128;
    public string Head { get; init; } = "bnneck";
    public double Margin { get; init; } = 0.5;
    public double Scale { get; init; } = 30;
    public double TripletWeight { get; init; }
    public int Threads { get; init; } = 2;
    public int Seed { get; init; }
    public int HnswM { get; init; } = 16;
    public int HnswEf { get; init; } = 200;
    public string? SaveModelPath { get; init; }

    public const string Usage = """
        Fashion-MNIST end to end: trains a small CNN + GeM + BNNeck embedding with ArcFace (optionally + triplet) on
        M-per-class batches, embeds the test images, indexes them with HNSW, lets every test image query the others
        (itself excluded), prints Precision@1, MAP@R, R-Precision and Recall@K, and writes metrics.json, history.csv,
        training-curve.png and result-grid.png.

        Usage: fashion-mnist [options]
          --epochs N        training epochs (default 2; the reference run uses 8)
          --data-dir DIR    read the four IDX files from DIR (plain or .gz)
          --download DIR    download Fashion-MNIST into DIR first (needs the internet), then use it
          --subset          use the embedded subset (6,000 train / 1,000 test) even if the full set is present
          --out DIR         output directory (default out/fashion-mnist)
          --batch-size N    images per batch (default 250: 25 of each of the 10 classes)
          --m N             images per class in a batch (default 25)
          --random-batches  shuffle the training set instead of M-per-class batches
          --lr X            one-cycle peak learning rate of the network (default 3e-3)
          --class-lr X      one-cycle peak learning rate of ArcFace's class centres (default 1e-2)
          --dim N           embedding dimension (default 128)
          --head H          bnneck (linear + batch norm with a frozen shift, default) or linear_bn (learnable shift)
          --margin X        ArcFace additive angular margin in radians (default 0.5)
          --scale X         ArcFace scale (default 30)
          --triplet W       add a batch-hard triplet loss on the pre-BN embedding with weight W (default off)
          --threads N       torch threads (default 2)
          --seed N          seed of weights, batches and augmentation (default 0)
          --hnsw-m N        HNSW links per node (default 16)
          --ef N            HNSW efConstruction and efSearch (default 200)
          --save-model PATH save the trained retrieval model (one file, restorable with RetrievalModel.Load)
          --help            show this text
        Without --data-dir the full set is taken from $FASHION_MNIST_DIR or /usr/share/datasets/fashion-mnist
        (Debian package dataset-fashion-mnist) when present, else the embedded subset.
        """;

    public static SampleOptions Parse(string[] args)
    {
        var options = new SampleOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string option = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"Option {option} needs a value.");
            int Positive() => int.TryParse(Value(), out int n) && n > 0 ? n : throw new ArgumentException($"Option {option} needs a positive integer; got \"{args[i]}\".");
            double Number(bool allowZero = false) => double.TryParse(Value(), System.Globalization.CultureInfo.InvariantCulture, out double x) && double.IsFinite(x) && (x > 0 || (allowZero && x == 0))
                ? x : throw new ArgumentException($"Option {option} needs a {(allowZero ? "non-negative" : "positive")} number; got \"{args[i]}\".");
            options = option switch
            {
                "--epochs" => options with { Epochs = Positive() },
                "--data-dir" => options with { DataDirectory = Value() },
                "--download" => options with { DownloadDirectory = Value() },
                "--subset" => options with { UseEmbeddedSubset = true },
                "--out" => options with { OutputDirectory = Value() },
                "--batch-size" => options with { BatchSize = Positive() },
                "--m" => options with { ImagesPerClass = Positive() },
                "--random-batches" => options with { RandomBatches = true },
                "--lr" => options with { MaxLearningRate = Number() },
                "--class-lr" => options with { ClassWeightLearningRate = Number() },
                "--dim" => options with { EmbeddingDimension = Positive() },
                "--head" => options with { Head = Value() is "bnneck" or "linear_bn" ? args[i] : throw new ArgumentException($"Option --head takes bnneck or linear_bn; got \"{args[i]}\".") },
                "--margin" => options with { Margin = Number(allowZero: true) },
                "--scale" => options with { Scale = Number() },
                "--triplet" => options with { TripletWeight = Number(allowZero: true) },
                "--threads" => options with { Threads = Positive() },
                "--seed" => options with { Seed = int.TryParse(Value(), out int s) && s >= 0 ? s : throw new ArgumentException($"Option --seed needs a non-negative integer; got \"{args[i]}\".") },
                "--hnsw-m" => options with { HnswM = Positive() },
                "--ef" => options with { HnswEf = Positive() },
                "--save-model" => options with { SaveModelPath = Value() },
                _ => throw new ArgumentException($"Unknown option \"{option}\"."),
            };
        }
        if (options.BatchSize % options.ImagesPerClass != 0 && !options.RandomBatches)
            throw new ArgumentException($"--batch-size {options.BatchSize} must be a multiple of --m {options.ImagesPerClass} (or use --random-batches).");
        return options;
    }
}
