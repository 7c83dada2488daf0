namespace DeepRetrieval.VectorData.Persistence;

/// <summary>
/// The store's files are written with the core <see cref="AtomicFile.Write"/> (a temporary sibling flushed to disk and
/// renamed over the target); this names their temporaries' suffix and deletes leftovers.
/// </summary>
internal static class AtomicWrite
{
    /// <summary>The suffix of temporary files; a crash can leave them behind, and opening a collection deletes them.</summary>
    public const string TempSuffix = ".tmp";

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
