using System.Text.Json;
using DeepRetrieval.Evaluation;
using DeepRetrieval.Imaging.IO;
using DeepRetrieval.Indexes;
using DeepRetrieval.OnnxRuntime;
using DeepRetrieval.OnnxRuntime.Extraction;
using DeepRetrieval.Tool.Console;
using DeepRetrieval.Tool.Embedding;
using Microsoft.Extensions.Logging;

namespace DeepRetrieval.Tool.Commands;

/// <summary>
/// <c>deepretrieval eval &lt;labelled folder&gt;</c>: each image's class is its first sub-folder; every image queries all the others
/// (leave-one-out, exact search) and the command prints Precision@1, MAP@R, R-Precision and Recall@K as the Fashion-MNIST
/// sample does.
/// </summary>
internal static class EvalCommand
{
    /// <summary>The settings of one run.</summary>
    internal sealed record EvalSettings(string Folder, ModelLoader.ModelChoice Model, bool Flip, IReadOnlyList<int> RecallKs, bool Json, int? Threads);

    /// <summary>The result printed as JSON.</summary>
    internal sealed record EvalReport(string Folder, string Model, int Dimension, int Images, int Classes, int Skipped,
        double PrecisionAt1, double MapAtR, double RPrecision, IReadOnlyDictionary<string, double> RecallAtK);

    public static async Task<int> RunAsync(EvalSettings settings, ToolConsole console, CancellationToken cancellationToken)
    {
        string root = Path.GetFullPath(settings.Folder);
        if (!Directory.Exists(root))
            throw new ToolError(File.Exists(root) ? $"'{settings.Folder}' is a file; give a folder with one sub-folder per class." : $"Folder '{settings.Folder}' does not exist.");
        if (settings.RecallKs.Count == 0 || settings.RecallKs.Any(k => k < 1) || settings.RecallKs.Distinct().Count() != settings.RecallKs.Count)
            throw new ToolError($"--recall takes distinct positive cut-offs; got {string.Join(",", settings.RecallKs)}.");
        IReadOnlyList<string> all = ImageFolderReader.ListFiles(root);
        string[] files = [.. all.Where(f => IndexCommand.Relative(root, f).Contains('/'))];
        int loose = all.Count - files.Length;
        if (files.Length == 0)
            throw new ToolError($"No images in sub-folders of '{settings.Folder}': put each class's images in a sub-folder named after it.");
        if (loose > 0)
            await console.Error.WriteLineAsync($"warning: {loose} image(s) directly in '{settings.Folder}' have no class (no sub-folder) and are left out.").ConfigureAwait(false);

        using IGalleryEmbedder embedder = ModelLoader.Load(settings.Model, new EmbeddingSettings(16, settings.Threads, settings.Flip, DraftDecode: true), console.LoggerFactory);
        ImageFeatures features = await console.RunWithProgressAsync($"Embedding {files.Length} images", progress =>
            embedder.ExtractFilesAsync(files, new SynchronousProgress<ImageExtractionProgress>(p => progress.Report((p.Processed + p.Skipped, p.Total))), cancellationToken)).ConfigureAwait(false);
        foreach (SkippedImage skip in features.Skipped)
            await console.Error.WriteLineAsync($"warning: skipped '{IndexCommand.Relative(root, skip.Path)}': {ModelLoader.OneLine(skip.Reason)}").ConfigureAwait(false);

        // Labels by class name; ids are row positions.
        string[] classNames = [.. features.Paths.Select(p => IndexCommand.Relative(root, p).Split('/')[0])];
        var classIds = classNames.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select((name, i) => (name, i)).ToDictionary(x => x.name, x => x.i, StringComparer.Ordinal);
        int[] labels = [.. classNames.Select(n => classIds[n])];
        if (classIds.Count < 2 || features.Count < 2)
            throw new ToolError($"'{settings.Folder}' needs at least two classes (sub-folders) of readable images to evaluate retrieval; found {classIds.Count} class(es), {features.Count} image(s).");

        int[] relevant = RetrievalEvaluator.CountRelevant<int>(labels, labels, queriesAreReferences: true);
        int n = features.Count;
        int[] recallKs = [.. settings.RecallKs.Where(k => k < n).Order()];
        int k = Math.Min(n, Math.Max(relevant.Max(), recallKs.DefaultIfEmpty(1).Max()) + 1);
        var index = new FlatIndex(features.Dimension, Metric.InnerProduct);
        index.Add(features.Vectors);
        SearchResult result = index.Search(features.Vectors, k);
        long[] neighbours = RetrievalEvaluator.ExcludeSelfMatches(result.Ids, k, [.. Enumerable.Range(0, n).Select(i => (long)i)]);
        LabelRetrievalReport report = RetrievalEvaluator.Evaluate<int>(labels, neighbours, k - 1, labels, relevant, recallKs);

        string model = ModelLoader.DisplayName(embedder.Spec);
        if (settings.Json)
        {
            var json = new EvalReport(root, model, features.Dimension, n, classIds.Count, features.Skipped.Count, report.PrecisionAt1,
                report.MeanAveragePrecisionAtR, report.RPrecision, report.RecallAtK.ToDictionary(p => p.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), p => p.Value));
            await console.Output.WriteLineAsync(JsonSerializer.Serialize(json, ToolJson.Options)).ConfigureAwait(false);
            return ExitCodes.Success;
        }
        TextWriter o = console.Output;
        await o.WriteLineAsync($"Leave-one-out retrieval on {n} images in {classIds.Count} classes ({model}, {features.Dimension}-d, exact search, k = {k - 1}):").ConfigureAwait(false);
        await o.WriteLineAsync($"  Precision@1   {report.PrecisionAt1:F4}").ConfigureAwait(false);
        await o.WriteLineAsync($"  MAP@R         {report.MeanAveragePrecisionAtR:F4}").ConfigureAwait(false);
        await o.WriteLineAsync($"  R-Precision   {report.RPrecision:F4}").ConfigureAwait(false);
        foreach (int cut in recallKs)
            await o.WriteLineAsync($"  Recall@{cut,-6} {report.RecallAtK[cut]:F4}").ConfigureAwait(false);
        if (report.SkippedQueryCount > 0)
            await o.WriteLineAsync($"  ({report.SkippedQueryCount} image(s) are alone in their class and were not evaluated as queries)").ConfigureAwait(false);
        return ExitCodes.Success;
    }
}
