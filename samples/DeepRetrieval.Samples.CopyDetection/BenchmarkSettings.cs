using DeepRetrieval.Samples.CopyDetection.Copies;
using DeepRetrieval.Samples.CopyDetection.Photos;

namespace DeepRetrieval.Samples.CopyDetection;

/// <summary>Everything a run depends on (the command line's options, or a test's choice).</summary>
internal sealed record BenchmarkSettings
{
    /// <summary>Method names on the command line, in run order (a re-ranker after the method it re-ranks).</summary>
    public static readonly IReadOnlyList<string> MethodNames = ["phash", "dhash", "embedding", "sift", "sift-bovw", "vlad", "fisher", "asmk"];

    /// <summary>The classical SIFT methods, which learn a vocabulary (or PCA and mixture) from the distractors.</summary>
    public static readonly IReadOnlyList<string> ClassicalMethodNames = ["sift-bovw", "vlad", "fisher", "asmk"];

    /// <summary>The methods a run uses unless told otherwise (the classical SIFT pipelines run when named).</summary>
    public static readonly IReadOnlyList<string> DefaultMethods = ["phash", "dhash", "embedding", "sift"];

    /// <summary>Folders searched for photos.</summary>
    public IReadOnlyList<string> PhotoFolders { get; init; } = PhotoCatalog.DefaultFolders;

    /// <summary>Use at most this many of the distinct photos found (a seeded choice); null for all.</summary>
    public int? MaxPhotos { get; init; }

    /// <summary>Photos that get copies.</summary>
    public int Originals { get; init; } = 32;

    /// <summary>At most this many other photos as distractors; null for all the rest.</summary>
    public int? Distractors { get; init; }

    /// <summary>Edit names (<see cref="CopyTransforms.All"/>).</summary>
    public IReadOnlyList<string> Transforms { get; init; } = [.. CopyTransforms.All.Select(t => t.Name)];

    /// <summary>Methods to run, from <see cref="MethodNames"/>.</summary>
    public IReadOnlyList<string> Methods { get; init; } = DefaultMethods;

    /// <summary>Seed of the split and of every edit.</summary>
    public int Seed { get; init; } = 2021;

    /// <summary>Where the copies are kept between runs.</summary>
    public string CacheDirectory { get; init; } = DefaultCacheDirectory();

    /// <summary>Where the tables and figures go; null writes none.</summary>
    public string? OutputDirectory { get; init; } = Path.Combine("out", "copy-detection");

    /// <summary>The folder holding ML.NET's ResNet18Onnx/ and ResNetPrepOnnx/ (copied next to the app by the build).</summary>
    public string ModelsDirectory { get; init; } = Path.Combine(AppContext.BaseDirectory, "DnnImageModels");

    /// <summary>Threads for decoding, making copies, ONNX Runtime, SIFT and the classical methods' training.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>How many of the embedding's (or the bag of words') best references SIFT + RANSAC verifies per copy.</summary>
    public int ShortList { get; init; } = 10;

    /// <summary>Inliers SIFT + RANSAC needs to call a reference verified.</summary>
    public int MinimumInliers { get; init; } = 15;

    /// <summary>Copies shown in the result grid.</summary>
    public int GridQueries { get; init; } = 6;

    /// <summary>Checks the values the command line cannot check alone.</summary>
    /// <exception cref="UsageException">A value is out of range or unknown.</exception>
    public void Validate()
    {
        if (Originals < 1) throw new UsageException($"--originals must be at least 1; got {Originals}.");
        if (Distractors < 0) throw new UsageException($"--distractors must not be negative; got {Distractors}.");
        if (MaxPhotos < 1) throw new UsageException($"--max-photos must be at least 1; got {MaxPhotos}.");
        if (Threads < 1) throw new UsageException($"--threads must be at least 1; got {Threads}.");
        if (ShortList < 1) throw new UsageException($"--short-list must be at least 1; got {ShortList}.");
        if (MinimumInliers < 3) throw new UsageException($"--min-inliers must be at least 3 (an affine fit needs 3 points); got {MinimumInliers}.");
        if (GridQueries < 0) throw new UsageException($"--grid-queries must not be negative; got {GridQueries}.");
        if (Transforms.Count == 0) throw new UsageException("--transforms lists no edit.");
        foreach (string name in Transforms)
        {
            if (CopyTransforms.All.All(t => t.Name != name))
                throw new UsageException($"Unknown transform '{name}'; known: {string.Join(", ", CopyTransforms.All.Select(t => t.Name))}.");
        }
        if (Transforms.Distinct(StringComparer.Ordinal).Count() != Transforms.Count) throw new UsageException("--transforms lists an edit twice.");
        if (Methods.Count == 0) throw new UsageException("--methods lists no method.");
        foreach (string name in Methods)
        {
            if (!MethodNames.Contains(name)) throw new UsageException($"Unknown method '{name}'; known: {string.Join(", ", MethodNames)}.");
        }
        if (Distractors == 0 && Methods.FirstOrDefault(ClassicalMethodNames.Contains) is { } classical)
            throw new UsageException($"{classical} learns its vocabulary from the distractors; give --distractors at least 1.");
        if (Methods.Contains("sift") && !Methods.Contains("embedding"))
            throw new UsageException("sift re-ranks the embedding's short list; add embedding to --methods.");
    }

    private static string DefaultCacheDirectory()
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (home.Length == 0) home = Path.GetTempPath();
        return Path.Combine(home, ".cache", "deepretrieval", "copy-detection");
    }
}
