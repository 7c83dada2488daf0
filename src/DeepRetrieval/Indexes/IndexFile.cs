using System.Buffers;
using System.Threading.Channels;
using DeepRetrieval.Indexes.Hnsw;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Indexes;

/// <summary>
/// Saves any index to a file or stream and loads it back, whatever its kind: the kind written in the file is looked up in
/// <see cref="IndexRegistry"/>, so an application's own registered kinds load like the library's. The container
/// (magic, version, checksum, bounds) is <see cref="IndexFileFormat"/>.
/// </summary>
/// <remarks>
/// <para>Loading checks the header, the payload length and the checksum before the index reads a byte of its payload;
/// each array the payload declares is checked against the bytes left before it is allocated, and nesting is bounded
/// (<see cref="IndexFileFormat.MaxNestingDepth"/>), so a hostile file fails with <see cref="InvalidDataException"/>.</para>
/// <para>Saving to a file writes a temporary file beside it, flushes it to disk and renames it over the target, so a
/// crash never leaves a half-written index under the real name. Saves capture one consistent state: indexes that allow
/// adds during searches (<see cref="HnswIndex"/>) hold their write lock while they write.</para>
/// </remarks>
public static class IndexFile
{
    /// <summary>The format version this library writes; files with a larger version are rejected.</summary>
    public const uint FormatVersion = IndexFileFormat.FormatVersion;

    private const int PumpChunkBytes = 1 << 20;

    /// <summary>Writes <paramref name="index"/> to <paramref name="path"/> atomically (temporary file, flush, rename).</summary>
    /// <param name="index">The index to save.</param>
    /// <param name="path">Target file; replaced if it exists.</param>
    public static void Save(IIndex index, string path)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = new AtomicFile(path);
        index.Save(file.Stream);
        file.Commit();
    }

    /// <summary>Writes <paramref name="index"/> to <paramref name="path"/> atomically without blocking the caller.</summary>
    /// <param name="index">The index to save.</param>
    /// <param name="path">Target file; replaced if it exists.</param>
    /// <param name="cancellationToken">Cancels the save; the target is then left as it was and the temporary file deleted.</param>
    public static async Task SaveAsync(IIndex index, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = new AtomicFile(path);
        await SaveAsync(index, file.Stream, cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        file.Commit();
    }

    /// <summary>
    /// Writes <paramref name="index"/> to a stream using only asynchronous writes (a network or HTTP response stream that
    /// refuses synchronous I/O works): the index serialises on a worker thread into 1 MiB chunks that are written as they come.
    /// </summary>
    /// <param name="index">The index to save.</param>
    /// <param name="stream">A writable stream.</param>
    /// <param name="cancellationToken">Cancels the save; what was written so far stays written.</param>
    public static async Task SaveAsync(IIndex index, Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite) throw new ArgumentException("The stream must be writable.", nameof(stream));
        var channel = Channel.CreateBounded<(byte[] Buffer, int Length)>(new BoundedChannelOptions(4) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task producer = Task.Run(() =>
        {
            try
            {
                using var pump = new ChunkPump(channel.Writer, stop.Token);
                index.Save(pump);
                pump.Flush();
                channel.Writer.TryComplete();
            }
            catch (Exception e)
            {
                channel.Writer.TryComplete(e);
            }
        }, CancellationToken.None);
        try
        {
            await foreach (var (buffer, length) in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await stream.WriteAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Unblock a producer waiting on a full channel, then let it finish before the index is used again.
            await stop.CancelAsync().ConfigureAwait(false);
            while (channel.Reader.TryRead(out var left)) ArrayPool<byte>.Shared.Return(left.Buffer);
            await producer.ConfigureAwait(false);
        }
    }

    /// <summary>Loads a float-vector index of any kind from a file written by <see cref="Save(IIndex, string)"/>.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="InvalidDataException">Not an index file, newer version, unknown kind, truncated, corrupt, or a binary index.</exception>
    public static IVectorIndex Load(string path) => As<IVectorIndex>(LoadIndex(path), path, "LoadBinary");

    /// <summary>Loads a float-vector index of any kind from a stream positioned at the start of an index file.</summary>
    /// <param name="stream">A readable stream; a non-seekable one is buffered in memory first.</param>
    /// <exception cref="InvalidDataException">Not an index file, newer version, unknown kind, truncated, corrupt, or a binary index.</exception>
    public static IVectorIndex Load(Stream stream) => As<IVectorIndex>(LoadIndex(stream), null, "LoadBinary");

    /// <summary>Loads a binary-code index (<see cref="IBinaryIndex"/>) from a file.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="InvalidDataException">Not an index file, newer version, unknown kind, truncated, corrupt, or not a binary index.</exception>
    public static IBinaryIndex LoadBinary(string path) => As<IBinaryIndex>(LoadIndex(path), path, "Load");

    /// <summary>Loads a binary-code index (<see cref="IBinaryIndex"/>) from a stream.</summary>
    /// <param name="stream">A readable stream.</param>
    /// <exception cref="InvalidDataException">Not an index file, newer version, unknown kind, truncated, corrupt, or not a binary index.</exception>
    public static IBinaryIndex LoadBinary(Stream stream) => As<IBinaryIndex>(LoadIndex(stream), null, "Load");

    /// <summary>Loads an index of any kind, float or binary, from a file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="cancellationToken">Checked while the checksum is computed and between the payload's arrays.</param>
    /// <exception cref="InvalidDataException">Not an index file, newer version, unknown kind, truncated or corrupt (the message starts with the path).</exception>
    public static IIndex LoadIndex(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        try
        {
            return LoadIndex(stream, cancellationToken);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Loads an index of any kind, float or binary, from a stream positioned at the start of an index file.</summary>
    /// <param name="stream">A readable stream; a non-seekable one is buffered in memory first.</param>
    /// <param name="cancellationToken">Checked while the checksum is computed and between the payload's arrays.</param>
    /// <exception cref="InvalidDataException">Not an index file, newer version, unknown kind, truncated or corrupt.</exception>
    public static IIndex LoadIndex(Stream stream, CancellationToken cancellationToken = default) =>
        IndexFileFormat.Read(stream, ReadKind, cancellationToken);

    /// <summary>
    /// Opens a saved float-vector index read-only in place: the file is memory-mapped and the index's large arrays (flat
    /// vectors, HNSW rows and layer-0 links, IVF lists' codes and ids) are used from the mapping without being copied, so opening takes
    /// time for the small parts only and the operating system pages the rest in as searches touch it (files larger than
    /// memory work). Kinds that cannot map, and files of format version 1, are loaded fully, as by <see cref="Load(string)"/>.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="verifyChecksum">
    /// Hash the whole file before opening it (reads every page once). Otherwise the checksum is not checked at open, only
    /// the header, the sizes and the offsets are; call <see cref="IndexMapping.VerifyChecksum"/> on <see cref="VectorIndex.Mapping"/>
    /// when convenient. Layer-0 neighbour ids of HNSW are checked as the search follows them.
    /// </param>
    /// <returns>
    /// The index; dispose it to unmap the file. A mapped index (its <see cref="VectorIndex.Mapping"/> is not null) is
    /// read-only: train, add and remove throw <see cref="NotSupportedException"/>; searches, reconstruction, <c>Contains</c>
    /// and saves work and return what the loaded index returns.
    /// </returns>
    /// <exception cref="InvalidDataException">Not an index file, newer version, unknown kind, truncated, corrupt, or not a float-vector index derived from <see cref="VectorIndex"/>.</exception>
    public static VectorIndex Map(string path, bool verifyChecksum = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        IIndex index;
        IndexMapping? mapping;
        try
        {
            index = IndexFileFormat.Map(path, ReadKind, verifyChecksum, out mapping);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        if (index is VectorIndex own and IVectorIndex)
        {
            if (mapping is not null) own.AttachMapping(mapping, owns: true);
            return own;
        }
        mapping?.Dispose();
        throw new InvalidDataException($"{path}: the file holds a {index.Kind} index, which is not a float-vector index that can be mapped; load it with IndexFile.LoadIndex.");
    }

    /// <summary>Loads a float-vector index from a file without blocking the caller.</summary>
    /// <param name="path">The file.</param>
    /// <param name="cancellationToken">Cancels the load.</param>
    public static async Task<IVectorIndex> LoadAsync(string path, CancellationToken cancellationToken = default) =>
        As<IVectorIndex>(await LoadIndexAsync(path, cancellationToken).ConfigureAwait(false), path, "LoadBinaryAsync");

    /// <summary>Loads a float-vector index from a stream, reading it with asynchronous reads only.</summary>
    /// <param name="stream">A readable stream.</param>
    /// <param name="cancellationToken">Cancels the load.</param>
    public static async Task<IVectorIndex> LoadAsync(Stream stream, CancellationToken cancellationToken = default) =>
        As<IVectorIndex>(await LoadIndexAsync(stream, cancellationToken).ConfigureAwait(false), null, "LoadBinaryAsync");

    /// <summary>Loads a binary-code index from a file without blocking the caller.</summary>
    /// <param name="path">The file.</param>
    /// <param name="cancellationToken">Cancels the load.</param>
    public static async Task<IBinaryIndex> LoadBinaryAsync(string path, CancellationToken cancellationToken = default) =>
        As<IBinaryIndex>(await LoadIndexAsync(path, cancellationToken).ConfigureAwait(false), path, "LoadAsync");

    /// <summary>Loads a binary-code index from a stream, reading it with asynchronous reads only.</summary>
    /// <param name="stream">A readable stream.</param>
    /// <param name="cancellationToken">Cancels the load.</param>
    public static async Task<IBinaryIndex> LoadBinaryAsync(Stream stream, CancellationToken cancellationToken = default) =>
        As<IBinaryIndex>(await LoadIndexAsync(stream, cancellationToken).ConfigureAwait(false), null, "LoadAsync");

    /// <summary>Loads an index of any kind from a file without blocking the caller (parsing runs on the thread pool).</summary>
    /// <param name="path">The file.</param>
    /// <param name="cancellationToken">Cancels the load.</param>
    public static Task<IIndex> LoadIndexAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Task.Run(() => LoadIndex(path, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Loads an index of any kind from a stream: a non-seekable stream (network, HTTP) is first read with asynchronous reads
    /// into memory, then parsed on the thread pool.
    /// </summary>
    /// <param name="stream">A readable stream positioned at the start of an index file.</param>
    /// <param name="cancellationToken">Cancels the load.</param>
    public static async Task<IIndex> LoadIndexAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Stream source = stream;
        if (!stream.CanSeek)
        {
            var buffered = new MemoryStream();
            await stream.CopyToAsync(buffered, cancellationToken).ConfigureAwait(false);
            buffered.Position = 0;
            source = buffered;
        }
        return await Task.Run(() => LoadIndex(source, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    private static IIndex ReadKind(string kind, IndexPayloadReader reader)
    {
        if (!IndexRegistry.TryGetKind(kind, out IndexKindDescriptor? descriptor))
            throw new InvalidDataException($"Unknown index kind \"{kind}\" in the index file; this library knows: {string.Join(", ", IndexRegistry.Kinds.Select(k => k.Name))}. An application's own kind must be registered with IndexRegistry.Register before loading.");
        return descriptor.ReadPayload(reader);
    }

    private static T As<T>(IIndex index, string? path, string other) where T : class, IIndex =>
        index as T ?? throw new InvalidDataException($"{(path is null ? "" : path + ": ")}the file holds a {index.Kind} index, which is not {(typeof(T) == typeof(IVectorIndex) ? "a float-vector" : "a binary-code")} index; load it with IndexFile.{other}.");

    // A write-only stream that hands full 1 MiB chunks to the channel; the synchronous writer blocks while the channel is full.
    private sealed class ChunkPump(ChannelWriter<(byte[] Buffer, int Length)> writer, CancellationToken cancellationToken) : Stream
    {
        private byte[] _buffer = ArrayPool<byte>.Shared.Rent(PumpChunkBytes);
        private int _length;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            while (!buffer.IsEmpty)
            {
                int n = Math.Min(buffer.Length, _buffer.Length - _length);
                buffer[..n].CopyTo(_buffer.AsSpan(_length));
                _length += n;
                buffer = buffer[n..];
                if (_length == _buffer.Length) Flush();
            }
        }

        public override void Flush()
        {
            if (_length == 0) return;
            var chunk = (_buffer, _length);
            _buffer = ArrayPool<byte>.Shared.Rent(PumpChunkBytes);
            _length = 0;
            // Runs on a worker thread: waiting here is the back-pressure that keeps at most a few chunks in memory.
            writer.WriteAsync(chunk, cancellationToken).AsTask().GetAwaiter().GetResult();
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = [];
            }
            base.Dispose(disposing);
        }
    }
}
