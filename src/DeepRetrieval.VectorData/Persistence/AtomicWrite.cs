namespace DeepRetrieval.VectorData.Persistence;

/// <summary>
/// Writes a file through a temporary sibling that is flushed to disk and renamed over the target: the core
/// <see cref="AtomicFile"/>, which also deletes the temporary on every failure and keeps the replaced file's permissions.
/// </summary>
internal static class AtomicWrite
{
    /// <summary>The suffix of temporary files; a crash can leave them behind, and opening a collection deletes them.</summary>
    public const string TempSuffix = ".tmp";

    public static void Write(string path, Action<Stream> write)
    {
        using var file = new AtomicFile(path);
        write(file.Stream);
        file.Commit();
    }

    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
