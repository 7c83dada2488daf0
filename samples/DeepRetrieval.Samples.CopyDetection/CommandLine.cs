using System.CommandLine;
using DeepRetrieval.Samples.CopyDetection.Photos;

namespace DeepRetrieval.Samples.CopyDetection;

/// <summary>The command line (System.CommandLine): options, their defaults, and the settings they make.</summary>
internal static class CommandLine
{
    private static readonly BenchmarkSettings Defaults = new();

    private static readonly Option<string[]> PhotosOption = new("--photos")
    {
        Description = "Folder of photos, searched recursively (repeatable; a missing one is skipped)",
        DefaultValueFactory = _ => [.. PhotoCatalog.DefaultFolders],
        AllowMultipleArgumentsPerToken = true,
    };
    private static readonly Option<int?> MaxPhotosOption = new("--max-photos") { Description = "Use at most N of the distinct photos found (seeded choice; default all)" };
    private static readonly Option<int> OriginalsOption = new("--originals") { Description = "Photos that get copies", DefaultValueFactory = _ => Defaults.Originals };
    private static readonly Option<int?> DistractorsOption = new("--distractors") { Description = "At most N other photos as distractors (default all the rest)" };
    private static readonly Option<string[]> TransformsOption = new("--transforms")
    {
        Description = "Edits to apply, comma-separated",
        DefaultValueFactory = _ => [.. Defaults.Transforms],
        CustomParser = result => [.. result.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))],
    };
    private static readonly Option<string[]> MethodsOption = new("--methods", "--method")
    {
        Description = "Methods, comma-separated: phash, dhash, embedding (ResNet-18 + GeM), sift (SIFT + RANSAC re-ranking of the embedding's short list); " +
            "classical: sift-bovw (RootSIFT bag of words + RANSAC), vlad, fisher, asmk (vocabularies learnt from the distractors)",
        DefaultValueFactory = _ => [.. Defaults.Methods],
        CustomParser = result => [.. result.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))],
    };
    private static readonly Option<int> SeedOption = new("--seed") { Description = "Seed of the split and of every edit", DefaultValueFactory = _ => Defaults.Seed };
    private static readonly Option<string> CacheOption = new("--cache-dir") { Description = "Where the copies are kept between runs", DefaultValueFactory = _ => Defaults.CacheDirectory };
    private static readonly Option<string> OutOption = new("--out") { Description = "Folder for the tables (results.md, results.json), ISC-style ground_truth.csv and predictions-*.csv, precision-recall.png and result-grid.png", DefaultValueFactory = _ => Defaults.OutputDirectory! };
    private static readonly Option<string> ModelsOption = new("--models") { Description = "ML.NET's DnnImageModels folder (ResNet18Onnx/, ResNetPrepOnnx/), which the build copies next to the app", DefaultValueFactory = _ => Defaults.ModelsDirectory };
    private static readonly Option<int> ThreadsOption = new("--threads") { Description = "Threads for decoding, copies, ONNX Runtime and SIFT", DefaultValueFactory = _ => Defaults.Threads };
    private static readonly Option<int> ShortListOption = new("--short-list") { Description = "References per copy that SIFT + RANSAC verifies", DefaultValueFactory = _ => Defaults.ShortList };
    private static readonly Option<int> MinInliersOption = new("--min-inliers") { Description = "Inliers SIFT + RANSAC needs to call a reference verified", DefaultValueFactory = _ => Defaults.MinimumInliers };
    private static readonly Option<int> GridOption = new("--grid-queries") { Description = "Copies shown in result-grid.png", DefaultValueFactory = _ => Defaults.GridQueries };

    /// <summary>The root command; <paramref name="run"/> receives the settings.</summary>
    public static RootCommand Create(Func<BenchmarkSettings, CancellationToken, Task<int>> run)
    {
        var command = new RootCommand(
            "Copy detection on the photographs Debian packages ship: every original gets edited copies (crops, scaling, rotation, flips, " +
            "JPEG, colour, brightness, contrast, grey, blur, noise, text, overlay), the other photos are distractors; pHash, dHash, the " +
            "ResNet-18 embedding and SIFT + RANSAC re-ranking are scored by Recall@1, mAP and the ISC 2021 micro-AP. Exit codes: 0 success, " +
            "1 run failure, 2 bad options.")
        {
            PhotosOption, MaxPhotosOption, OriginalsOption, DistractorsOption, TransformsOption, MethodsOption, SeedOption, CacheOption, OutOption,
            ModelsOption, ThreadsOption, ShortListOption, MinInliersOption, GridOption,
        };
        command.SetAction((parse, cancellationToken) => run(new BenchmarkSettings
        {
            PhotoFolders = parse.GetRequiredValue(PhotosOption),
            MaxPhotos = parse.GetValue(MaxPhotosOption),
            Originals = parse.GetValue(OriginalsOption),
            Distractors = parse.GetValue(DistractorsOption),
            Transforms = parse.GetRequiredValue(TransformsOption),
            Methods = parse.GetRequiredValue(MethodsOption),
            Seed = parse.GetValue(SeedOption),
            CacheDirectory = parse.GetRequiredValue(CacheOption),
            OutputDirectory = parse.GetRequiredValue(OutOption),
            ModelsDirectory = parse.GetRequiredValue(ModelsOption),
            Threads = parse.GetValue(ThreadsOption),
            ShortList = parse.GetValue(ShortListOption),
            MinimumInliers = parse.GetValue(MinInliersOption),
            GridQueries = parse.GetValue(GridOption),
        }, cancellationToken));
        return command;
    }
}
