using System.Text.Json;
using DeepRetrieval.Imaging;
using DeepRetrieval.Imaging.Processing;
using DeepRetrieval.Imaging.Visualization;
using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Hnsw;
using DeepRetrieval.Tool.Console;
using DeepRetrieval.Tool.Embedding;
using DeepRetrieval.Tool.Gallery;

namespace DeepRetrieval.Tool.Commands;

/// <summary><c>deepretrieval search &lt;gallery&gt; &lt;image&gt;...</c>: the gallery's nearest images to each query, as text, JSON or a picture.</summary>
internal static class SearchCommand
{
    /// <summary>The settings of one run.</summary>
    internal sealed record SearchSettings(string Gallery, IReadOnlyList<string> Images, int K, bool Json, string? Grid, int? Threads);

    /// <summary>One result of one query.</summary>
    internal sealed record SearchHit(int Rank, long Id, string Path, string RelativePath, float Score);

    /// <summary>One query's results.</summary>
    internal sealed record SearchAnswer(string Query, IReadOnlyList<SearchHit> Results);

    public static async Task<int> RunAsync(SearchSettings settings, ToolConsole console, CancellationToken cancellationToken)
    {
        if (settings.K < 1)
            throw new ToolError($"--k must be at least 1; got {settings.K}.");
        string gallery = Path.GetFullPath(settings.Gallery);
        GalleryManifest manifest = GalleryStore.ReadManifest(gallery);
        foreach (string image in settings.Images)
            if (!File.Exists(image))
                throw new ToolError(Directory.Exists(image) ? $"Query '{image}' is a folder; give image files." : $"Query image '{image}' does not exist.");

        using IGalleryEmbedder embedder = OpenEmbedder(gallery, manifest, settings.Threads, console);
        IVectorIndex index = GalleryStore.ReadIndex(gallery, manifest);
        var byId = manifest.Images.ToDictionary(i => i.Id);
        int k = (int)Math.Min(settings.K, Math.Max(1, index.Count));
        SearchOptions? options = index is HnswIndex ? new HnswSearchOptions { Ef = Math.Max(64, k) } : null;

        var answers = new List<SearchAnswer>();
        foreach (string query in settings.Images)
        {
            cancellationToken.ThrowIfCancellationRequested();
            float[] embedding;
            try
            {
                embedding = embedder.EmbedFile(query, cancellationToken);
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                throw new ToolError($"Cannot read query image '{query}': {ModelLoader.OneLine(e.Message)}");
            }
            var hits = new List<SearchHit>();
            if (index.Count > 0)
            {
                SearchResult result = index.Search(embedding, k, options);
                for (int i = 0; i < k; i++)
                {
                    long id = result.Ids[i];
                    if (id == SearchResult.MissingId || !byId.TryGetValue(id, out GalleryImage? image))
                        continue;
                    hits.Add(new SearchHit(hits.Count + 1, id, Path.Combine(manifest.Root, image.Path), image.Path, result.Distances[i]));
                }
            }
            answers.Add(new SearchAnswer(Path.GetFullPath(query), hits));
        }

        if (settings.Json)
        {
            await console.Output.WriteLineAsync(JsonSerializer.Serialize(answers, ToolJson.Options)).ConfigureAwait(false);
        }
        else
        {
            foreach (SearchAnswer answer in answers)
            {
                await console.Output.WriteLineAsync(answer.Query).ConfigureAwait(false);
                foreach (SearchHit hit in answer.Results)
                    await console.Output.WriteLineAsync($"  {hit.Rank,3}  {hit.Score:F4}  {hit.Path}").ConfigureAwait(false);
            }
        }
        if (settings.Grid is string grid)
        {
            SaveGrid(grid, answers);
            if (!settings.Json)
                await console.Output.WriteLineAsync($"Wrote {Path.GetFullPath(grid)}").ConfigureAwait(false);
        }
        return ExitCodes.Success;
    }

    /// <summary>The model a gallery was built with, with its preprocessing, refusing a model that no longer matches its fingerprint.</summary>
    public static IGalleryEmbedder OpenEmbedder(string gallery, GalleryManifest manifest, int? threads, ToolConsole console)
    {
        GalleryModel model = manifest.Model;
        IGalleryEmbedder embedder = ModelLoader.Load(new ModelLoader.ModelChoice(model.Spec, model.Output, model.Pooling, model.Weights),
            new EmbeddingSettings(16, threads, manifest.Preprocessing.HorizontalFlip, manifest.Preprocessing.DraftDecode), console.LoggerFactory);
        try
        {
            if (embedder.Fingerprint != model.Fingerprint)
                throw new ToolError(
                    $"The model '{model.Spec}' no longer matches gallery '{gallery}' (fingerprint {embedder.Fingerprint[..12]}, the gallery's {model.Fingerprint[..12]}): " +
                    "the model file changed since it was indexed. Re-index into a new folder.");
            if (embedder.Preprocessing.Description != manifest.Preprocessing.Description)
                throw new ToolError($"Gallery '{gallery}' was built with preprocessing '{manifest.Preprocessing.Description}', which this version of the tool does not reproduce ('{embedder.Preprocessing.Description}'). Re-index it.");
            return embedder;
        }
        catch
        {
            embedder.Dispose();
            throw;
        }
    }

    private static void SaveGrid(string path, IReadOnlyList<SearchAnswer> answers)
    {
        const int thumbnail = 160;
        var decode = new ImageDecodeOptions { DraftSize = new ImageSize(2 * thumbnail, 2 * thumbnail) };
        ResultGridCell Cell(string file, string caption)
        {
            PixelImage image;
            try
            {
                image = ImageDecoder.Decode(file, decode).ResizeToFit(thumbnail, thumbnail, ResizeFilter.Bilinear);
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                // A gallery file deleted or damaged since indexing: a grey tile keeps the grid's layout.
                image = new PixelImage(thumbnail, thumbnail, PixelFormat.Rgb24);
                image.Pixels.Fill(128);
                caption += " (unreadable)";
            }
            return new ResultGridCell(image, caption);
        }
        var rows = answers.Select(a => new ResultGridRow(
            Cell(a.Query, Path.GetFileName(a.Query)),
            [.. a.Results.Select(h => Cell(h.Path, $"{h.Rank}. {h.Score:F3} {Path.GetFileName(h.RelativePath)}"))])).ToList();
        try
        {
            string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
            if (folder is not null && !Directory.Exists(folder))
                throw new ToolError($"--grid '{path}': folder '{folder}' does not exist.");
            ResultGrid.Save(path, rows, new ResultGridOptions { ThumbnailSize = thumbnail, Title = "deepretrieval search" });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ToolError($"Cannot write --grid '{path}': {ModelLoader.OneLine(e.Message)}");
        }
    }
}
