using System.IO.Hashing;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace DeepRetrieval.Persistence;

/// <summary>
/// A read-only memory mapping of an index file, owned by the index opened from it (<c>IndexFile.Map</c>): the index's
/// large arrays are pointers into it, and disposing the index disposes it. Searches hold a lease on it, so a dispose that
/// races a search waits for the search to leave the mapping instead of pulling it from under it; calls after the dispose
/// throw <see cref="ObjectDisposedException"/>.
/// </summary>
/// <remarks>
/// Opening checks the header, the payload length and the bounds of every array, not the checksum, which would read the
/// whole file: call <see cref="VerifyChecksum"/> (or pass <c>verifyChecksum: true</c> to <c>IndexFile.Map</c>) to detect a
/// corrupted file. On Linux the file may be deleted or replaced while mapped (the mapping keeps the old contents); on
/// Windows it stays locked until the mapping is disposed.
/// </remarks>
public sealed unsafe class IndexMapping : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly SafeHandle _handle;
    private int _disposed;

    private IndexMapping(string path, MemoryMappedFile file, MemoryMappedViewAccessor view, byte* pointer, long length)
    {
        Path = path;
        _file = file;
        _view = view;
        _handle = view.SafeMemoryMappedViewHandle;
        Pointer = pointer;
        Length = length;
    }

    /// <summary>The mapped file.</summary>
    public string Path { get; }

    /// <summary>The file's length in bytes.</summary>
    public long Length { get; }

    /// <summary>True once disposed.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    internal byte* Pointer { get; }

    internal static IndexMapping Open(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1);
        long length = stream.Length;
        if (length == 0) throw new InvalidDataException($"Truncated index file: {path} is empty.");
        MemoryMappedFile file = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            return new IndexMapping(path, file, view, pointer + view.PointerOffset, length);
        }
        catch
        {
            view?.Dispose();
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Hashes the whole file and compares the result with the checksum in its trailer (reads every page of the file once).
    /// </summary>
    /// <exception cref="InvalidDataException">The checksum does not match: the file is corrupt.</exception>
    /// <exception cref="ObjectDisposedException">The mapping was disposed.</exception>
    public void VerifyChecksum()
    {
        using Lease lease = Acquire();
        var hash = new XxHash64();
        long covered = Length - sizeof(ulong);
        for (long at = 0; at < covered;)
        {
            int chunk = (int)Math.Min(1 << 30, covered - at);
            hash.Append(new ReadOnlySpan<byte>(Pointer + at, chunk));
            at += chunk;
        }
        if (hash.GetCurrentHashAsUInt64() != *(ulong*)(Pointer + covered))
            throw new InvalidDataException($"{Path}: corrupt index file: the checksum does not match its contents.");
    }

    /// <summary>Keeps the mapping alive until the lease is disposed; throws <see cref="ObjectDisposedException"/> once the mapping is disposed.</summary>
    internal Lease Acquire()
    {
        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            throw new ObjectDisposedException(nameof(IndexMapping), $"The index mapped from {Path} was disposed.");
        }
        if (IsDisposed)
        {
            _handle.DangerousRelease();
            throw new ObjectDisposedException(nameof(IndexMapping), $"The index mapped from {Path} was disposed.");
        }
        return new Lease(_handle);
    }

    internal UnmanagedMemoryStream CreateStream() => new(Pointer, Length);

    /// <summary>Unmaps the file once no search holds it; the index opened from it can no longer be used.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }

    /// <summary>A hold on the mapping; dispose it when the pointers are no longer used.</summary>
    internal readonly struct Lease(SafeHandle? handle) : IDisposable
    {
        /// <summary>Releases the hold.</summary>
        public void Dispose() => handle?.DangerousRelease();
    }
}
