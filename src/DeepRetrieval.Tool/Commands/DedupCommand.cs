using System.Numerics.Tensors;
using System.Text.Json;
using DeepRetrieval.Imaging;
using DeepRetrieval.Imaging.Hashing;
using DeepRetrieval.Imaging.IO;
using DeepRetrieval.Indexes;
using DeepRetrieval.OnnxRuntime;
using DeepRetrieval.OnnxRuntime.Extraction;
using DeepRetrieval.Tool.Console;
using DeepRetrieval.Tool.Embedding;
using DeepRetrieval.Tool.Gallery;
using Microsoft.Extensions.Logging;

namespace DeepRetrieval.Tool.Commands;

/// <summary>
/// <c>deepretrieval dedup &lt;folder | gallery&gt;</c>: groups of near-duplicate images, by perceptual hash (pHash or dHash within a
/// Hamming distance, through <see cref="PerceptualHashIndex"/>) or by embedding (cosine similarity at least a threshold); groups are
/// connected components (single linkage).
/// </summary>
internal static class DedupCommand
{
    /// <summary>The settings of one run.</summary>
    internal sealed record DedupSettings(string Path, string Method, double? Threshold, bool Json, ModelLoader.ModelChoice Model, int? Threads);

    /// <summary>The result printed as JSON.</summary>
    internal sealed record DedupReport(string Method, double Threshold, int Images, IReadOnlyList<IReadOnlyList<string>> Groups);

    /// <summary>Default pHash threshold: 10 of 64 bits (imagehash's usual cut-off for resized and re-encoded copies).</summary>
    public const int DefaultHashThreshold = 10;

    /// <summary>Default embedding threshold: cosine similarity 0.9.</summary>
    public const double DefaultSimilarity = 0.9;

    public static async Task<int> RunAsync(DedupSettings settings, ToolConsole console, CancellationToken cancellationToken)
    {
        string method = settings.Method.ToLowerInvariant();
        if (method is not ("phash" or "dhash" or "embedding"))
            throw new ToolError($"--method '{settings.Method}' is not one of phash, dhash, embedding.");
        double threshold = settings.Threshold ?? (method == "embedding" ? DefaultSimilarity : DefaultHashThreshold);
        if (method == "embedding" ? !(threshold is > -1 and <= 1) : threshold < 0 || threshold != Math.Floor(threshold) || threshold > 64)
            throw new ToolError(method == "embedding"
                ? $"--threshold for embeddings is a cosine similarity in (-1, 1]; got {threshold}."
                : $"--threshold for {method} is a whole number of bits from 0 to 64; got {threshold}.");

        string path = System.IO.Path.GetFullPath(settings.Path);
        string root;
        IReadOnlyList<string> relative;
        GalleryManifest? manifest = null;
        if (GalleryStore.IsGallery(path))
        {
            manifest = GalleryStore.ReadManifest(path);
            root = manifest.Root;
            relative = [.. manifest.Images.Select(i => i.Path)];
        }
        else if (Directory.Exists(path))
        {
            root = path;
            relative = [.. ImageFolderReader.ListFiles(path).Select(f => IndexCommand.Relative(path, f))];
        }
        else
        {
            throw new ToolError(File.Exists(path) ? $"'{settings.Path}' is a file; give a folder of images or a gallery." : $"'{settings.Path}' does not exist.");
        }
        if (relative.Count == 0)
            throw new ToolError($"No images in '{settings.Path}'.");

        (IReadOnlyList<int> rows, IReadOnlyList<IReadOnlyList<long>> groups) = method == "embedding"
            ? await EmbeddingGroupsAsync(settings, manifest, path, root, relative, (float)threshold, console, cancellationToken).ConfigureAwait(false)
            : await HashGroupsAsync(method, (int)threshold, root, relative, settings.Threads, console, cancellationToken).ConfigureAwait(false);

        var named = groups.Select(g => (IReadOnlyList<string>)[.. g.Select(id => relative[rows[(int)id]])]).ToList();
        if (settings.Json)
        {
            await console.Output.WriteLineAsync(JsonSerializer.Serialize(new DedupReport(method, threshold, rows.Count, named), ToolJson.Options)).ConfigureAwait(false);
            return ExitCodes.Success;
        }
        string rule = method == "embedding" ? $"cosine similarity ≥ {threshold}" : $"Hamming distance ≤ {threshold} of 64 bits";
        await console.Output.WriteLineAsync($"{named.Count} group(s) of near-duplicates among {rows.Count} images in '{root}' ({method}, {rule}):").ConfigureAwait(false);
        for (int g = 0; g < named.Count; g++)
        {
            await console.Output.WriteLineAsync($"group {g + 1} ({named[g].Count} images):").ConfigureAwait(false);
            foreach (string file in named[g])
                await console.Output.WriteLineAsync($"  {file}").ConfigureAwait(false);
        }
        return ExitCodes.Success;
    }

    // Hashes every readable file (in parallel), then groups through the Hamming index. Ids are positions in `rows`, which map to `relative`.
    private static async Task<(IReadOnlyList<int>, IReadOnlyList<IReadOnlyList<long>>)> HashGroupsAsync(string method, int threshold, string root,
        IReadOnlyList<string> relative, int? threads, ToolConsole console, CancellationToken cancellationToken)
    {
        IPerceptualHasher hasher = PerceptualHashers.Create(method);
        var hashes = new PerceptualHash?[relative.Count];
        var failures = new string?[relative.Count];
        int done = 0;
        await console.RunWithProgressAsync($"Hashing {relative.Count} images ({method})", async progress =>
        {
            await Parallel.ForAsync(0, relative.Count,
                new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = threads ?? Environment.ProcessorCount }, (i, _) =>
                {
                    try
                    {
                        hashes[i] = hasher.Compute(ImageDecoder.Decode(System.IO.Path.Combine(root, relative[i])));
                    }
                    catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
                    {
                        failures[i] = ModelLoader.OneLine(e.Message);
                    }
                    progress.Report((Interlocked.Increment(ref done), relative.Count));
                    return ValueTask.CompletedTask;
                }).ConfigureAwait(false);
            return 0;
        }).ConfigureAwait(false);
        for (int i = 0; i < failures.Length; i++)
            if (failures[i] is string reason)
                await console.Error.WriteLineAsync($"warning: skipped '{relative[i]}': {reason}").ConfigureAwait(false);

        var rows = Enumerable.Range(0, relative.Count).Where(i => hashes[i] is not null).ToList();
        var index = new PerceptualHashIndex(hasher);
        index.Add([.. Enumerable.Range(0, rows.Count).Select(r => (long)r)], [.. rows.Select(i => (IReadOnlyList<PerceptualHash>)[hashes[i]!])]);
        return (rows, index.GroupDuplicates(HashVoting.Single(threshold), cancellationToken: cancellationToken));
    }

    private static async Task<(IReadOnlyList<int>, IReadOnlyList<IReadOnlyList<long>>)> EmbeddingGroupsAsync(DedupSettings settings, GalleryManifest? manifest,
        string path, string root, IReadOnlyList<string> relative, float threshold, ToolConsole console, CancellationToken cancellationToken)
    {
        float[] vectors;
        int dimension;
        List<int> rows;
        if (manifest is not null)
        {
            if (settings.Model.Model is not null)
                throw new ToolError($"'{settings.Path}' is a gallery: dedup uses its own model; leave --model out.");
            vectors = GalleryStore.ReadVectors(path, manifest);
            dimension = manifest.Model.Dimension;
            rows = [.. Enumerable.Range(0, relative.Count)];
        }
        else
        {
            using IGalleryEmbedder embedder = ModelLoader.Load(settings.Model, new EmbeddingSettings(16, settings.Threads, Flip: false, DraftDecode: true), console.LoggerFactory);
            string[] files = [.. relative.Select(r => System.IO.Path.Combine(root, r))];
            ImageFeatures features = await console.RunWithProgressAsync($"Embedding {files.Length} images", progress =>
                embedder.ExtractFilesAsync(files, new SynchronousProgress<ImageExtractionProgress>(p => progress.Report((p.Processed + p.Skipped, p.Total))), cancellationToken)).ConfigureAwait(false);
            foreach (SkippedImage skip in features.Skipped)
                await console.Error.WriteLineAsync($"warning: skipped '{relative[skip.Index]}': {ModelLoader.OneLine(skip.Reason)}").ConfigureAwait(false);
            vectors = features.Vectors;
            dimension = features.Dimension;
            rows = [.. features.Ids.Select(id => (int)id)];
        }
        return (rows, GroupBySimilarity(vectors, dimension, threshold, cancellationToken));
    }

    /// <summary>
    /// Single-linkage groups of rows whose cosine similarity is at least <paramref name="threshold"/>: every row's 32 nearest
    /// neighbours by exact search (vectors are normalised first), linked when close enough.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<long>> GroupBySimilarity(float[] vectors, int dimension, float threshold, CancellationToken cancellationToken)
    {
        int count = vectors.Length / dimension;
        var normalised = (float[])vectors.Clone();
        for (int i = 0; i < count; i++)
        {
            Span<float> row = normalised.AsSpan(i * dimension, dimension);
            TensorPrimitives.Divide(row, MathF.Max(TensorPrimitives.Norm<float>(row), 1e-12f), row);
        }
        var index = new FlatIndex(dimension, Metric.InnerProduct);
        index.Add(normalised);
        int k = Math.Min(count, 32);
        var parent = Enumerable.Range(0, count).ToArray();
        int Find(int i)
        {
            while (parent[i] != i)
                i = parent[i] = parent[parent[i]];
            return i;
        }
        const int Batch = 1024;
        for (int start = 0; start < count; start += Batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int rows = Math.Min(Batch, count - start);
            SearchResult result = index.Search(normalised.AsSpan(start * dimension, rows * dimension), k);
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < k; j++)
                {
                    long other = result.Ids[r * k + j];
                    if (other < 0 || result.Distances[r * k + j] < threshold)
                        continue;
                    int a = Find(start + r), b = Find((int)other);
                    if (a != b)
                        parent[Math.Max(a, b)] = Math.Min(a, b);
                }
        }
        var groups = new SortedDictionary<int, List<long>>();
        for (int i = 0; i < count; i++)
        {
            int root = Find(i);
            if (!groups.TryGetValue(root, out List<long>? members))
                groups[root] = members = [];
            members.Add(i);
        }
        return [.. groups.Values.Where(g => g.Count > 1)];
    }
}
