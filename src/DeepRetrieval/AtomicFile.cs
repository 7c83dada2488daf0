using System.Diagnostics;

namespace DeepRetrieval;

/// <summary>
/// A file written through a temporary sibling that <see cref="Commit"/> renames into place, so readers never see
/// a half-written file and an interrupted or failed write leaves any previous version intact. Disposing without
/// committing deletes the temporary file. Every file the DeepRetrieval packages save (indexes, vectors, weights,
/// training checkpoints) goes through this class.
/// </summary>
/// <remarks>
/// <para><b>Failures.</b> Whatever fails (a write, the flush to disk when the disk is full, the rename), the temporary
/// file is deleted and the exception that caused it propagates; the target keeps its previous content.</para>
/// <para><b>Debris of killed processes.</b> Temporaries are named <c>&lt;target&gt;.&lt;process id&gt;.&lt;guid&gt;.tmp</c>.
/// A process killed mid-save (<c>kill -9</c>, power loss) cannot delete its own; the next <see cref="AtomicFile"/> for the
/// same target removes those whose process no longer runs (or was started after the file was last written, so the id was
/// reused), and those of the older <c>&lt;target&gt;.&lt;guid&gt;.tmp</c> naming last written before the current process
/// started. Temporaries of saves still running, in this process or another, are left alone.</para>
/// <para><b>Permissions.</b> On Unix, replacing a file keeps its permission bits (a 0600 file stays 0600, and the
/// temporary is created with them, so the content is never more readable than the target was); a new file gets the
/// usual 0666 minus the umask. Owner and group are those of the writing process, as with any rename-based save.</para>
/// <para><b>Symbolic links.</b> When the path is a symbolic link, the file it finally points to is replaced (the
/// temporary is created beside that file, so the rename stays on its file system) and the link is kept:
/// <see cref="TargetPath"/> is the resolved file. A dangling link gets its target created.</para>
/// </remarks>
/// <example>
/// <code>
/// using (var file = new AtomicFile("vectors.bin"))
/// {
///     file.Stream.Write(bytes);
///     file.Commit();
/// }
/// </code>
/// </example>
public sealed class AtomicFile : IDisposable
{
    private const string TempSuffix = ".tmp";
    private readonly string _path;
    private readonly string _tempPath;
    private readonly Stream _stream;
    private readonly UnixFileMode? _mode;
    private bool _committed;
    private bool _finished;

    /// <summary>Opens a new temporary file beside <paramref name="path"/> (the folder must exist).</summary>
    /// <param name="path">The file that <see cref="Commit"/> creates or replaces (or, for a symbolic link, the file it points to).</param>
    /// <exception cref="ArgumentException">The path is null or empty.</exception>
    /// <exception cref="DirectoryNotFoundException">The folder of <paramref name="path"/> does not exist.</exception>
    /// <exception cref="IOException">The temporary file cannot be created, or the link cannot be resolved (a cycle).</exception>
    public AtomicFile(string path) : this(path, open: null)
    {
    }

    // Tests substitute the stream (one that fails as a full disk does) through this constructor.
    internal AtomicFile(string path, Func<string, FileStreamOptions, Stream>? open)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _path = ResolveTarget(Path.GetFullPath(path));
        RemoveStaleTemporaries(_path);
        _mode = OperatingSystem.IsWindows() || !File.Exists(_path) ? null : File.GetUnixFileMode(_path);
        _tempPath = $"{_path}.{Environment.ProcessId}.{Guid.NewGuid():N}{TempSuffix}";
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            BufferSize = 1 << 16,
        };
        if (_mode is { } mode && !OperatingSystem.IsWindows()) options.UnixCreateMode = mode;
        _stream = open is null ? new FileStream(_tempPath, options) : open(_tempPath, options);
    }

    /// <summary>The full path of the file <see cref="Commit"/> creates or replaces (a symbolic link's final target, resolved).</summary>
    public string TargetPath => _path;

    /// <summary>The stream to write the content to (the temporary file).</summary>
    public Stream Stream => _stream;

    /// <summary>Flushes the content to disk, gives it the replaced file's permissions and renames it over the target.</summary>
    /// <exception cref="IOException">The flush or the rename failed (a full disk, for example); the temporary file is deleted and the previous version of the target, if any, is intact.</exception>
    /// <exception cref="InvalidOperationException">Commit already ran, or the file was disposed.</exception>
    public void Commit()
    {
        if (_finished) throw new InvalidOperationException(_committed ? "The file was already committed." : "The file was disposed without committing.");
        try
        {
            if (_stream is FileStream file) file.Flush(flushToDisk: true);
            else _stream.Flush();
            _stream.Dispose();
            if (_mode is { } mode && !OperatingSystem.IsWindows()) File.SetUnixFileMode(_tempPath, mode);
            File.Move(_tempPath, _path, overwrite: true);
        }
        catch
        {
            Abandon();
            throw;
        }
        _committed = true;
        _finished = true;
    }

    /// <summary>
    /// Writes a whole file atomically: <paramref name="write"/> fills the temporary's stream, then <see cref="Commit"/>
    /// renames it over <paramref name="path"/>. When <paramref name="write"/> throws, the target is untouched and the
    /// temporary is deleted.
    /// </summary>
    /// <param name="path">The file to write (see the class remarks for symbolic links and permissions).</param>
    /// <param name="write">Writes the content to the stream it is given.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="write"/> is null.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        using var file = new AtomicFile(path);
        write(file.Stream);
        file.Commit();
    }

    /// <summary>Closes the stream and, unless <see cref="Commit"/> ran, deletes the temporary file.</summary>
    public void Dispose()
    {
        if (_finished) return;
        Abandon();
    }

    // Closes the stream, ignoring a second flush failure (the content is being thrown away, and the exception that made us
    // abandon it is the one the caller must see), then deletes the temporary file.
    private void Abandon()
    {
        _finished = true;
        try
        {
            _stream.Dispose();
        }
        catch (IOException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        TryDelete(_tempPath);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // A leftover temporary file must not hide the exception of the failed save; the next save removes it.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static string ResolveTarget(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is null) return path;
        FileSystemInfo? target = info.ResolveLinkTarget(returnFinalTarget: true);
        return target is null ? path : Path.GetFullPath(target.FullName);
    }

    // Removes temporaries of this target left by saves that can no longer finish (see the remarks).
    private static void RemoveStaleTemporaries(string target)
    {
        string? folder = Path.GetDirectoryName(target);
        if (folder is null || !Directory.Exists(folder)) return;
        string prefix = Path.GetFileName(target) + ".";
        DateTime processStart = ProcessStart.Value;
        try
        {
            foreach (string candidate in Directory.EnumerateFiles(folder, prefix + "*" + TempSuffix))
            {
                string middle = Path.GetFileName(candidate)[prefix.Length..^TempSuffix.Length];
                if (IsStale(candidate, middle, processStart)) TryDelete(candidate);
            }
        }
        catch (IOException)
        {
            // Cleaning up is a courtesy: an unreadable folder must not fail the save itself.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static bool IsStale(string file, string middle, DateTime processStart)
    {
        string[] parts = middle.Split('.');
        if (parts.Length == 1 && IsGuid(parts[0]))
            return File.GetLastWriteTimeUtc(file) < processStart; // the naming before process ids
        if (parts.Length != 2 || !IsGuid(parts[1]) || !int.TryParse(parts[0], out int processId)) return false;
        if (processId == Environment.ProcessId) return false;     // a save of ours, possibly running
        try
        {
            using Process owner = Process.GetProcessById(processId);
            return owner.StartTime.ToUniversalTime() > File.GetLastWriteTimeUtc(file); // the id was reused since
        }
        catch (ArgumentException)
        {
            return true; // no such process: it died mid-save
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            return false; // cannot tell; keep it
        }
    }

    private static bool IsGuid(string text) => text.Length == 32 && Guid.TryParseExact(text, "N", out _);

    private static readonly Lazy<DateTime> ProcessStart = new(() =>
    {
        using Process self = Process.GetCurrentProcess();
        return self.StartTime.ToUniversalTime();
    });
}
