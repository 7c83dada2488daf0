using System.Text.Json;
using DeepRetrieval.Data;
using DeepRetrieval.Indexes;

namespace DeepRetrieval.Tool.Gallery;

/// <summary>
/// Reads and writes a gallery folder: <c>gallery.json</c> (<see cref="GalleryManifest"/>), <c>index.&lt;generation&gt;.dri</c> (the
/// index file) and <c>vectors.&lt;generation&gt;.npy</c>. A save writes the new generation's data files, then the manifest (the
/// commit point), then deletes other generations, each file through the core's <see cref="AtomicFile"/>: an interrupted save leaves
/// the previous generation complete.
/// </summary>
internal static class GalleryStore
{
    /// <summary>The manifest's file name.</summary>
    public const string ManifestName = "gallery.json";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>Whether <paramref name="folder"/> holds a gallery manifest.</summary>
    public static bool IsGallery(string folder) => File.Exists(Path.Combine(folder, ManifestName));

    /// <summary>Reads a gallery's manifest.</summary>
    /// <exception cref="ToolError">There is no gallery, or its manifest is unreadable or of another format.</exception>
    public static GalleryManifest ReadManifest(string folder)
    {
        string path = Path.Combine(folder, ManifestName);
        if (!Directory.Exists(folder))
            throw new ToolError($"Gallery '{folder}' does not exist; build one with: deepretrieval index <folder> --out {folder}");
        if (!File.Exists(path))
            throw new ToolError($"'{folder}' is not a gallery (no {ManifestName}); build one with: deepretrieval index <folder> --out {folder}");
        GalleryManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<GalleryManifest>(File.ReadAllText(path), Json);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or IOException or UnauthorizedAccessException)
        {
            throw new ToolError($"Gallery '{folder}': {ManifestName} is unreadable ({ModelLoader.OneLine(e.Message)}).");
        }
        if (manifest is null || manifest.Format != GalleryManifest.CurrentFormat)
            throw new ToolError($"Gallery '{folder}': {ManifestName} is not a {GalleryManifest.CurrentFormat} manifest (format '{manifest?.Format}').");
        return manifest;
    }

    /// <summary>Reads a gallery's index.</summary>
    public static IVectorIndex ReadIndex(string folder, GalleryManifest manifest)
    {
        string path = DataPath(folder, manifest.IndexFile);
        try
        {
            IVectorIndex index = Indexes.IndexFile.Load(path);
            if (index.Dimension != manifest.Model.Dimension)
                throw new ToolError($"Gallery '{folder}': its index holds {index.Dimension}-d vectors but its model makes {manifest.Model.Dimension}-d ones; re-index into a new folder.");
            return index;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new ToolError($"Gallery '{folder}': cannot read its index '{manifest.IndexFile}' ({ModelLoader.OneLine(e.Message)}).");
        }
    }

    /// <summary>Reads a gallery's vectors, one row per manifest image.</summary>
    public static float[] ReadVectors(string folder, GalleryManifest manifest)
    {
        string path = DataPath(folder, manifest.VectorsFile);
        try
        {
            NpyArray array = NpyReader.Read(path);
            if (array.Shape.Count != 2 || array.Shape[0] != manifest.Images.Count || array.Shape[1] != manifest.Model.Dimension)
                throw new ToolError($"Gallery '{folder}': '{manifest.VectorsFile}' has shape ({string.Join(", ", array.Shape)}), not ({manifest.Images.Count}, {manifest.Model.Dimension}).");
            return array.Data;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException or FormatException)
        {
            throw new ToolError($"Gallery '{folder}': cannot read its vectors '{manifest.VectorsFile}' ({ModelLoader.OneLine(e.Message)}).");
        }
    }

    /// <summary>Writes a new generation: data files, then the manifest, then removes other generations' files.</summary>
    /// <param name="folder">The gallery folder (created if needed).</param>
    /// <param name="manifest">The manifest without file names and generation (they are filled in).</param>
    /// <param name="index">The index.</param>
    /// <param name="vectors">One row per manifest image, in its order.</param>
    /// <returns>The manifest as written.</returns>
    public static GalleryManifest Save(string folder, GalleryManifest manifest, IIndex index, ReadOnlySpan<float> vectors)
    {
        Directory.CreateDirectory(folder);
        long generation = manifest.Generation + 1;
        GalleryManifest written = manifest with
        {
            Generation = generation,
            IndexFile = $"index.{generation}.dri",
            VectorsFile = $"vectors.{generation}.npy",
            Updated = DateTime.UtcNow,
        };
        Indexes.IndexFile.Save(index, Path.Combine(folder, written.IndexFile));
        NpyWriter.Write(Path.Combine(folder, written.VectorsFile), vectors, written.Images.Count, written.Model.Dimension);
        using (var file = new AtomicFile(Path.Combine(folder, ManifestName)))
        {
            JsonSerializer.Serialize(file.Stream, written, Json);
            file.Commit();
        }
        RemoveOtherGenerations(folder, written);
        return written;
    }

    /// <summary>Deletes data files of other generations and temporary files an interrupted save left.</summary>
    public static void RemoveOtherGenerations(string folder, GalleryManifest? current)
    {
        foreach (string file in Directory.EnumerateFiles(folder))
        {
            string name = Path.GetFileName(file);
            bool data = (name.StartsWith("index.", StringComparison.Ordinal) && name.EndsWith(".dri", StringComparison.Ordinal))
                        || (name.StartsWith("vectors.", StringComparison.Ordinal) && name.EndsWith(".npy", StringComparison.Ordinal));
            bool stale = name.EndsWith(".tmp", StringComparison.Ordinal) || (data && name != current?.IndexFile && name != current?.VectorsFile);
            if (!stale)
                continue;
            try
            {
                File.Delete(file);
            }
            catch (IOException)
            {
                // Another process may hold it; the next save tries again.
            }
        }
    }

    private static string DataPath(string folder, string name)
    {
        // The manifest names files inside the gallery only.
        if (name.IndexOfAny(['/', '\\']) >= 0 || name is "." or "..")
            throw new ToolError($"Gallery '{folder}': {ManifestName} names a data file outside the gallery ('{name}').");
        return Path.Combine(folder, name);
    }
}
