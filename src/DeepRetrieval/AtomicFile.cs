namespace DeepRetrieval;

/// <summary>
/// A file written through a temporary sibling that <see cref="Commit"/> renames into place, so readers never see
/// a half-written file and an interrupted or failed write leaves any previous version intact. Disposing without
/// committing deletes the temporary file.
/// </summary>
internal sealed class AtomicFile : IDisposable
{
    private readonly string _path;
    private readonly string _tempPath;
    private readonly FileStream _stream;
    private bool _committed;

    internal AtomicFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _path = Path.GetFullPath(path);
        _tempPath = $"{_path}.{Guid.NewGuid():N}.tmp";
        _stream = new FileStream(_tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
    }

    internal Stream Stream => _stream;

    internal void Commit()
    {
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        File.Move(_tempPath, _path, overwrite: true);
        _committed = true;
    }

    public void Dispose()
    {
        _stream.Dispose();
        if (!_committed)
        {
            try
            {
                File.Delete(_tempPath);
            }
            catch (IOException)
            {
                // The write already failed; a leftover temp file must not hide that exception.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}
