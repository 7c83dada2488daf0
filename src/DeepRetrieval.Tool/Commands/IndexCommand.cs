using System.Diagnostics;
using System.Security.Cryptography;
using DeepRetrieval.Imaging.IO;
using DeepRetrieval.Indexes;
using DeepRetrieval.OnnxRuntime.Extraction;
using DeepRetrieval.Tool.Console;
using DeepRetrieval.Tool.Embedding;
using DeepRetrieval.Tool.Gallery;
using Microsoft.Extensions.Logging;

namespace DeepRetrieval.Tool.Commands;

/// <summary>
/// <c>deepretrieval index &lt;folder&gt; --out &lt;gallery&gt;</c>: embeds every image of a folder into a gallery, incrementally. A file is
/// unchanged when its size and modification time match the manifest, or else when its SHA-256 does; new and changed files are
/// embedded, deleted ones removed. The gallery is saved every <see cref="IndexSettings.CheckpointEvery"/> images and when the run
/// is interrupted, so running the command again resumes.
/// </summary>
internal static class IndexCommand
{
    /// <summary>The settings of one run.</summary>
    internal sealed record IndexSettings(string Folder, string Gallery, ModelLoader.ModelChoice Model, string Index, bool Flip, bool ExactDecode,
        int BatchSize, int? Threads, int CheckpointEvery);

    public static async Task<int> RunAsync(IndexSettings settings, ToolConsole console, CancellationToken cancellationToken)
    {
        string root = Path.GetFullPath(settings.Folder);
        if (!Directory.Exists(root))
            throw new ToolError(File.Exists(root) ? $"'{settings.Folder}' is a file; give a folder of images." : $"Folder '{settings.Folder}' does not exist.");
        string gallery = Path.GetFullPath(settings.Gallery);
        if (File.Exists(gallery))
            throw new ToolError($"--out '{settings.Gallery}' is a file; give a folder for the gallery.");
        if (IsInside(gallery, root))
            throw new ToolError($"--out '{settings.Gallery}' is inside the indexed folder; put the gallery elsewhere.");
        GalleryManifest? existing = null;
        if (GalleryStore.IsGallery(gallery))
            existing = GalleryStore.ReadManifest(gallery);
        else if (Directory.Exists(gallery) && Directory.EnumerateFileSystemEntries(gallery).Any(e => !e.EndsWith(".tmp", StringComparison.Ordinal)))
            throw new ToolError($"--out '{settings.Gallery}' is a folder that is not a gallery and not empty; choose a new or empty folder.");
        if (existing is not null && !string.Equals(existing.Root, root, StringComparison.Ordinal))
            throw new ToolError($"Gallery '{settings.Gallery}' indexes '{existing.Root}', not '{root}'; use another --out folder.");

        IReadOnlyList<string> files = ImageFolderReader.ListFiles(root);
        if (files.Count == 0)
            throw new ToolError($"No images in '{settings.Folder}' (looked for {string.Join(", ", ImageFolderOptions.DefaultExtensions)}, in sub-folders too).");

        using IGalleryEmbedder embedder = ModelLoader.Load(settings.Model,
            new EmbeddingSettings(settings.BatchSize, settings.Threads, settings.Flip, DraftDecode: !settings.ExactDecode), console.LoggerFactory);
        string spec = embedder.Spec;
        int decodeThreads = Math.Max(1, settings.Threads ?? Environment.ProcessorCount);
        var model = new GalleryModel(spec, settings.Model.Output, settings.Model.Pooling, embedder.Fingerprint, embedder.Dimension, WeightsSpec(settings.Model.Weights));
        GalleryPreprocessing preprocessing = embedder.Preprocessing;
        if (existing is not null)
            CheckSameModel(settings.Gallery, existing, model, preprocessing);

        var clock = Stopwatch.StartNew();
        // What is on disk against what the gallery holds.
        var known = existing?.Images.ToDictionary(i => i.Path, StringComparer.Ordinal) ?? [];
        var current = files.Select(f => (Path: f, Relative: Relative(root, f), Info: new FileInfo(f))).ToList();
        var onDisk = current.Select(c => c.Relative).ToHashSet(StringComparer.Ordinal);
        var removedPaths = known.Keys.Where(p => !onDisk.Contains(p)).ToList();
        var candidates = current.Where(c => !known.TryGetValue(c.Relative, out GalleryImage? image)
                                            || image.Size != c.Info.Length || image.Modified != c.Info.LastWriteTimeUtc.Ticks).ToList();
        var hashes = new string[candidates.Count];
        var hashClock = Stopwatch.StartNew();
        try
        {
            await Parallel.ForAsync(0, candidates.Count, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = decodeThreads },
                async (i, token) => hashes[i] = await Sha256Async(candidates[i].Path, token).ConfigureAwait(false)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new ToolError($"Interrupted before anything was embedded; {(existing is null ? "no gallery was written" : "the gallery is unchanged")}.", ExitCodes.Interrupted);
        }
        hashClock.Stop();

        var images = new Dictionary<string, GalleryImage>(known, StringComparer.Ordinal);
        var vectors = new Dictionary<long, float[]>();
        if (existing is not null)
        {
            float[] stored = GalleryStore.ReadVectors(gallery, existing);
            for (int i = 0; i < existing.Images.Count; i++)
                vectors[existing.Images[i].Id] = stored.AsSpan(i * model.Dimension, model.Dimension).ToArray();
        }
        var toEmbed = new List<(string Path, GalleryImage Image)>();
        var touched = new List<GalleryImage>();
        long nextId = existing?.NextId ?? 0;
        for (int i = 0; i < candidates.Count; i++)
        {
            (string path, string relative, FileInfo info) = candidates[i];
            var record = new GalleryImage(nextId, relative, info.Length, info.LastWriteTimeUtc.Ticks, hashes[i]);
            if (known.TryGetValue(relative, out GalleryImage? old))
            {
                if (old.Sha256 == hashes[i])
                {
                    // Touched, not changed: same bytes, so the vector stays.
                    touched.Add(old with { Size = info.Length, Modified = info.LastWriteTimeUtc.Ticks });
                    continue;
                }
            }
            nextId++;
            toEmbed.Add((path, record));
        }

        // The index: kept and updated when it is of the requested kind, rebuilt from the stored vectors otherwise.
        IVectorIndex index;
        bool rebuild = existing is null || existing.Index != settings.Index;
        var stale = removedPaths.Select(p => known[p].Id).Concat(toEmbed.Where(e => known.ContainsKey(e.Image.Path)).Select(e => known[e.Image.Path].Id)).ToArray();
        foreach (string path in removedPaths)
            images.Remove(path);
        foreach (GalleryImage image in touched)
            images[image.Path] = image;
        foreach (long id in stale)
            vectors.Remove(id);
        if (rebuild)
        {
            index = CreateIndex(settings.Index, model.Dimension);
        }
        else
        {
            index = GalleryStore.ReadIndex(gallery, existing!);
            if (stale.Length > 0)
                index.Remove(stale);
        }
        foreach ((_, GalleryImage image) in toEmbed)
            images.Remove(image.Path);
        // Images kept from the gallery wait for the rebuilt index (added at the first save).
        List<long> pendingAdds = rebuild ? [.. images.Values.Select(i => i.Id)] : [];

        if (toEmbed.Count == 0 && removedPaths.Count == 0 && touched.Count == 0 && !rebuild)
        {
            await console.Output.WriteLineAsync($"Gallery '{settings.Gallery}' is up to date: {images.Count} images, {model.Dimension}-d, {settings.Index}.").ConfigureAwait(false);
            return ExitCodes.Success;
        }

        GalleryManifest manifest = existing ?? new GalleryManifest
        {
            Format = GalleryManifest.CurrentFormat,
            Root = root,
            Model = model,
            Preprocessing = preprocessing,
            Index = settings.Index,
            Generation = 0,
            IndexFile = "",
            VectorsFile = "",
            NextId = 0,
            Images = [],
        };
        var skipped = new List<GallerySkip>();
        var indexTime = TimeSpan.Zero;

        GalleryManifest Commit()
        {
            var indexClock = Stopwatch.StartNew();
            FlushPending(index, pendingAdds, vectors);
            GalleryImage[] ordered = [.. images.Values.OrderBy(i => i.Path, StringComparer.Ordinal)];
            var rows = new float[(long)ordered.Length * model.Dimension];
            for (int i = 0; i < ordered.Length; i++)
                vectors[ordered[i].Id].CopyTo(rows, (long)i * model.Dimension);
            manifest = GalleryStore.Save(gallery, manifest with
            {
                Index = settings.Index,
                NextId = nextId,
                Images = ordered,
                Skipped = [.. skipped],
            }, index, rows);
            indexTime += indexClock.Elapsed;
            return manifest;
        }

        int embedded = 0, embeddedChanged = 0, sinceCheckpoint = 0;
        ExtractionStageTimes? times = null;
        try
        {
            await console.RunWithProgressAsync($"Embedding {toEmbed.Count} images", async progress =>
            {
                var byIndex = toEmbed;
                progress.Report((0, byIndex.Count));
                var reports = new SynchronousProgress<ImageExtractionProgress>(p => progress.Report((p.Processed + p.Skipped, p.Total)));
                await foreach (EmbeddedImage item in embedder.EmbedFilesAsync([.. byIndex.Select(e => e.Path)], reports, cancellationToken).ConfigureAwait(false))
                {
                    GalleryImage image = byIndex[item.Index].Image;
                    vectors[image.Id] = item.Embedding;
                    images[image.Path] = image;
                    var indexClock = Stopwatch.StartNew();
                    if (index.IsTrained)
                        index.Add(item.Embedding, [image.Id]);
                    else
                        pendingAdds.Add(image.Id);
                    indexTime += indexClock.Elapsed;
                    embedded++;
                    if (known.ContainsKey(image.Path))
                        embeddedChanged++;
                    if (++sinceCheckpoint >= settings.CheckpointEvery)
                    {
                        sinceCheckpoint = 0;
                        Commit();
                    }
                }
                return 0;
            }).ConfigureAwait(false);
            times = embedder.Times;
            skipped.AddRange(embedder.Skipped.Select(s => new GallerySkip(Relative(root, s.Path), ModelLoader.OneLine(s.Reason))));
            foreach (SkippedImage skip in embedder.Skipped)
                await console.Error.WriteLineAsync($"warning: skipped '{Relative(root, skip.Path)}': {ModelLoader.OneLine(skip.Reason)}").ConfigureAwait(false);
            if (images.Count == 0)
                throw new ToolError($"None of the {files.Count} image files in '{settings.Folder}' could be read; nothing was indexed.");
            Commit();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Keep what was embedded: the next run starts from it.
            if (images.Count > 0)
                Commit();
            throw new ToolError(
                $"Interrupted: embedded {embedded} of {toEmbed.Count} images; the gallery holds {images.Count}. Run the same command again to finish.",
                ExitCodes.Interrupted);
        }

        clock.Stop();
        await console.Output.WriteLineAsync(
            $"Indexed '{settings.Folder}' into '{settings.Gallery}': {images.Count} images ({embedded - embeddedChanged} new, {embeddedChanged} changed, {removedPaths.Count} removed, " +
            $"{skipped.Count} skipped), {model.Dimension}-d, {settings.Index}, model {ModelLoader.DisplayName(spec)}.").ConfigureAwait(false);
        if (times is not null)
            await console.Output.WriteLineAsync(
                $"Time {clock.Elapsed.TotalSeconds:F1} s: hash {hashClock.Elapsed.TotalSeconds:F1} s, decode {times.Decode.TotalSeconds:F1} s and resize {times.Prepare.TotalSeconds:F1} s " +
                $"(thread time on {decodeThreads} threads), embed {times.Embed.TotalSeconds:F1} s, index and save {indexTime.TotalSeconds:F1} s.").ConfigureAwait(false);
        else if (embedded > 0)
            await console.Output.WriteLineAsync(
                $"Time {clock.Elapsed.TotalSeconds:F1} s: hash {hashClock.Elapsed.TotalSeconds:F1} s, decode and embed {(clock.Elapsed - hashClock.Elapsed - indexTime).TotalSeconds:F1} s, " +
                $"index and save {indexTime.TotalSeconds:F1} s.").ConfigureAwait(false);
        return ExitCodes.Success;
    }

    /// <summary>The index of a gallery: vectors are L2-normalised, compared by inner product (cosine similarity).</summary>
    public static IVectorIndex CreateIndex(string description, int dimension)
    {
        try
        {
            return IndexFactory.Create(dimension, description, Metric.InnerProduct);
        }
        catch (ArgumentException e)
        {
            throw new ToolError($"--index '{description}': {ModelLoader.OneLine(e.Message)}");
        }
    }

    /// <summary>The path relative to the root with '/' separators.</summary>
    public static string Relative(string root, string path) => Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/');

    private static void CheckSameModel(string gallery, GalleryManifest existing, GalleryModel model, GalleryPreprocessing preprocessing)
    {
        if (existing.Model.Fingerprint != model.Fingerprint)
            throw new ToolError(
                $"Gallery '{gallery}' was built with model {Describe(existing.Model)}; this run uses {Describe(model)}. " +
                $"Vectors of different models cannot be mixed: index into a new --out folder, or pass the gallery's model (--model {existing.Model.Spec}{(existing.Model.Weights is null ? "" : $" --weights {existing.Model.Weights}")}).");
        if (existing.Preprocessing.Description != preprocessing.Description)
            throw new ToolError(
                $"Gallery '{gallery}' was built with preprocessing '{existing.Preprocessing.Description}'; this run uses '{preprocessing.Description}'. " +
                "Repeat the gallery's options (--flip, --exact-decode) or index into a new --out folder.");
    }

    private static string Describe(GalleryModel model) =>
        $"{ModelLoader.DisplayName(model.Spec)}{(model.Weights is null ? "" : $" with weights {ModelLoader.DisplayName(model.Weights)}")} ({model.Dimension}-d, fingerprint {model.Fingerprint[..12]})";

    /// <summary>The --weights value as a gallery stores it: a file's full path, "random", or null for the registered weights.</summary>
    public static string? WeightsSpec(string? weights) =>
        weights is null || string.Equals(weights, TorchModels.RandomWeights, StringComparison.OrdinalIgnoreCase) ? weights?.ToLowerInvariant() : Path.GetFullPath(weights);

    // Adds the vectors waiting for a trained index (a rebuilt index, or one that learns from data and was not trained yet).
    private static void FlushPending(IVectorIndex index, List<long> pending, Dictionary<long, float[]> vectors)
    {
        if (pending.Count == 0)
            return;
        int dimension = index.Dimension;
        var rows = new float[(long)pending.Count * dimension];
        for (int i = 0; i < pending.Count; i++)
            vectors[pending[i]].CopyTo(rows, (long)i * dimension);
        if (!index.IsTrained)
        {
            try
            {
                index.Train(rows);
            }
            catch (ArgumentException e)
            {
                throw new ToolError($"The index cannot be trained on {pending.Count} images: {ModelLoader.OneLine(e.Message)} Use --index HNSW32 or Flat for small folders.");
            }
        }
        index.Add(rows, [.. pending]);
        pending.Clear();
    }

    private static async Task<string> Sha256Async(string path, CancellationToken cancellationToken)
    {
        try
        {
            await using FileStream stream = new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
            return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Unreadable now: the embedding step skips and reports it.
            return "";
        }
    }

    private static bool IsInside(string path, string folder)
    {
        string relative = Path.GetRelativePath(folder, path);
        return relative == "." || (!relative.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(relative));
    }
}
