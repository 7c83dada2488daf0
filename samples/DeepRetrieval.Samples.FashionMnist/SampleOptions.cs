namespace DeepRetrieval.Samples.FashionMnist;

/// <summary>Command-line options of the sample.</summary>
internal sealed record SampleOptions
{
    public string? DataDirectory { get; init; }
    public string? DownloadDirectory { get; init; }
    public bool UseEmbeddedSubset { get; init; }
    public string OutputDirectory { get; init; } = Path.Combine("out", "fashion-mnist");
    public int Threads { get; init; }
    public int MaxQueries { get; init; } = int.MaxValue;

    public const string Usage = """
        Fashion-MNIST retrieval with exact search: indexes the training images, queries with the test images,
        prints retrieval metrics and writes metrics.json and a result grid.

        Usage: fashion-mnist [options]
          --data-dir DIR    read the four IDX files from DIR (plain or .gz)
          --download DIR    download Fashion-MNIST into DIR first (needs the internet), then use it
          --subset          use the embedded subset (6,000 train / 1,000 test) even if the full set is present
          --queries N       use only the first N test images as queries
          --threads N       search threads (default: all cores)
          --out DIR         output directory (default out/fashion-mnist)
          --help            show this text
        Without --data-dir the full set is taken from $FASHION_MNIST_DIR or /usr/share/datasets/fashion-mnist
        (Debian package dataset-fashion-mnist) when present, else the embedded subset.
        """;

    public static SampleOptions Parse(string[] args)
    {
        var options = new SampleOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"Option {args[i]} needs a value.");
            int Positive() => int.TryParse(Value(), out int n) && n > 0 ? n : throw new ArgumentException($"Option {args[i - 1]} needs a positive integer; got \"{args[i]}\".");
            options = args[i] switch
            {
                "--data-dir" => options with { DataDirectory = Value() },
                "--download" => options with { DownloadDirectory = Value() },
                "--subset" => options with { UseEmbeddedSubset = true },
                "--queries" => options with { MaxQueries = Positive() },
                "--threads" => options with { Threads = Positive() },
                "--out" => options with { OutputDirectory = Value() },
                _ => throw new ArgumentException($"Unknown option \"{args[i]}\"."),
            };
        }
        return options;
    }
}
