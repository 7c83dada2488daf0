using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text;
using DeepRetrieval.VectorData.Filtering;
using DeepRetrieval.VectorData.Storage;

namespace DeepRetrieval.VectorData.Persistence;

/// <summary>
/// Collections kept as sub-folders of a root folder, one <see cref="DurableRecordEngine"/> each. Every handle to the same folder
/// in this process shares one engine (reference-counted: it closes, with a checkpoint, when the last handle is disposed); a
/// second process is refused by the folder's lock.
/// </summary>
/// <remarks>
/// Folder names are the collection names with every character outside <c>[A-Za-z0-9-]</c> written as <c>_</c> and its UTF-8
/// bytes in hex, so any name maps to one safe folder; the name itself is recovered from the folder name.
/// </remarks>
public sealed class FolderRecordEngineProvider : IRecordEngineProvider
{
    private static readonly ConcurrentDictionary<string, Shared> Open = new(StringComparer.Ordinal);
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private readonly DurableEngineOptions _options;

    /// <summary>Creates a provider over a root folder (created when missing).</summary>
    /// <param name="root">The root folder.</param>
    /// <param name="options">Settings for the collections it opens; null for defaults. The first opener of a collection in a process sets them.</param>
    public FolderRecordEngineProvider(string root, DurableEngineOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        Root = Path.GetFullPath(root);
        _options = options ?? new DurableEngineOptions();
    }

    /// <summary>The root folder.</summary>
    public string Root { get; }

    /// <inheritdoc />
    public string StoreName => Root;

    /// <summary>The folder of a collection.</summary>
    /// <param name="name">Collection name.</param>
    public string FolderOf(string name) => Path.Combine(Root, EncodeName(name));

    /// <inheritdoc />
    public Task<bool> CollectionExistsAsync(string name, CancellationToken cancellationToken) =>
        Task.FromResult(DurableRecordEngine.Exists(FolderOf(name)));

    /// <inheritdoc />
    public async IAsyncEnumerable<string> ListCollectionNamesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        if (!Directory.Exists(Root)) yield break;
        foreach (string folder in Directory.EnumerateDirectories(Root))
        {
            cancellationToken.ThrowIfCancellationRequested();
            string folderName = Path.GetFileName(folder);
            if (DurableRecordEngine.Exists(folder) && TryDecodeName(folderName, out string? name)) yield return name;
        }
    }

    /// <inheritdoc />
    public async Task EnsureCollectionExistsAsync(string name, RecordSchema schema, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schema);
        string folder = FolderOf(name);
        await Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (DurableRecordEngine.Exists(folder))
            {
                RecordSchema stored = Open.TryGetValue(folder, out Shared? shared) ? shared.Engine.Schema : DurableRecordEngine.ReadSchema(folder);
                if (stored.DescribeDifference(schema) is { } difference)
                    throw new InvalidOperationException($"Collection '{name}' already exists with a different record definition: {difference}.");
                return;
            }
            // Built beside the target and renamed into place, so a crash never leaves a half-made collection under its name.
            Directory.CreateDirectory(Root);
            string building = Path.Combine(Root, $".creating-{Guid.NewGuid():N}");
            try
            {
                DurableRecordEngine.CreateFolder(building, schema);
                if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); // a folder without a manifest holds no collection
                Directory.Move(building, folder);
            }
            catch
            {
                if (Directory.Exists(building)) Directory.Delete(building, recursive: true);
                throw;
            }
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <inheritdoc />
    public async Task EnsureCollectionDeletedAsync(string name, CancellationToken cancellationToken)
    {
        string folder = FolderOf(name);
        await Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Open.TryRemove(folder, out Shared? shared)) shared.Engine.Abandon();
            if (!Directory.Exists(folder)) return;
            // Take the lock so that a collection open in another process is not deleted under it.
            string lockPath = Path.Combine(folder, "LOCK");
            try
            {
                using (new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
                {
                }
            }
            catch (IOException e)
            {
                throw new InvalidOperationException($"Collection '{name}' is open in another process and cannot be deleted.", e);
            }
            string doomed = Path.Combine(Root, $".deleting-{Guid.NewGuid():N}");
            Directory.Move(folder, doomed);
            Directory.Delete(doomed, recursive: true);
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <inheritdoc />
    public async Task<IRecordEngine?> OpenAsync(string name, RecordSchema schema, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schema);
        string folder = FolderOf(name);
        await Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Open.TryGetValue(folder, out Shared? shared) && !shared.Engine.IsDisposed)
            {
                if (shared.Engine.Schema.DescribeDifference(schema) is { } difference)
                    throw new InvalidOperationException($"Collection '{name}' was created with a different record definition: {difference}.");
                shared.References++;
                return new Lease(shared);
            }
            if (!DurableRecordEngine.Exists(folder)) return null;
            shared = new Shared(folder, DurableRecordEngine.Open(folder, schema, _options));
            Open[folder] = shared;
            return new Lease(shared);
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>The folder name of a collection name.</summary>
    /// <param name="name">Any non-empty name.</param>
    public static string EncodeName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var builder = new StringBuilder(name.Length);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (Rune rune in name.EnumerateRunes())
        {
            if (rune.IsAscii && (char.IsAsciiLetterOrDigit((char)rune.Value) || rune.Value == '-'))
            {
                builder.Append((char)rune.Value);
                continue;
            }
            int count = rune.EncodeToUtf8(utf8);
            foreach (byte b in utf8[..count]) builder.Append('_').Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return builder.ToString();
    }

    /// <summary>The collection name of a folder name, when it is one.</summary>
    /// <param name="folderName">A folder name.</param>
    /// <param name="name">The collection name.</param>
    public static bool TryDecodeName(string folderName, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? name)
    {
        name = null;
        if (string.IsNullOrEmpty(folderName)) return false;
        var bytes = new List<byte>(folderName.Length);
        for (int i = 0; i < folderName.Length; i++)
        {
            char c = folderName[i];
            if (c == '_')
            {
                if (i + 2 >= folderName.Length || !byte.TryParse(folderName.AsSpan(i + 1, 2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out byte b)) return false;
                bytes.Add(b);
                i += 2;
            }
            else if (char.IsAsciiLetterOrDigit(c) || c == '-')
            {
                bytes.Add((byte)c);
            }
            else
            {
                return false;
            }
        }
        try
        {
            name = new UTF8Encoding(false, true).GetString(bytes.ToArray());
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
        return EncodeName(name) == folderName;
    }

    /// <summary>The shared engine behind a handle this provider returned (for tests and diagnostics).</summary>
    internal static DurableRecordEngine EngineOf(IRecordEngine lease) => ((Lease)lease).Shared.Engine;

    private sealed class Shared(string folder, DurableRecordEngine engine)
    {
        public string Folder { get; } = folder;

        public DurableRecordEngine Engine { get; } = engine;

        public int References { get; set; } = 1;
    }

    // One handle's reference to a shared engine; the last one disposed closes it.
    private sealed class Lease(Shared shared) : IRecordEngine
    {
        private int _disposed;

        public Shared Shared => shared;

        public RecordSchema Schema => shared.Engine.Schema;

        public Task UpsertAsync(IReadOnlyList<RecordRow> rows, CancellationToken cancellationToken) => Engine.UpsertAsync(rows, cancellationToken);

        public Task DeleteAsync(IReadOnlyList<object> keys, CancellationToken cancellationToken) => Engine.DeleteAsync(keys, cancellationToken);

        public Task<IReadOnlyList<RecordRow>> GetAsync(IReadOnlyList<object> keys, bool includeVectors, CancellationToken cancellationToken) =>
            Engine.GetAsync(keys, includeVectors, cancellationToken);

        public Task<IReadOnlyList<RecordRow>> QueryAsync(FilterNode? filter, IReadOnlyList<OrderByColumn> orderBy, int skip, int top, bool includeVectors, CancellationToken cancellationToken) =>
            Engine.QueryAsync(filter, orderBy, skip, top, includeVectors, cancellationToken);

        public Task<IReadOnlyList<ScoredRow>> SearchAsync(int vectorColumn, ReadOnlyMemory<float> query, int top, int skip, FilterNode? filter, double? scoreThreshold, bool includeVectors, CancellationToken cancellationToken) =>
            Engine.SearchAsync(vectorColumn, query, top, skip, filter, scoreThreshold, includeVectors, cancellationToken);

        public Task<IReadOnlyList<ScoredRow>> HybridSearchAsync(int vectorColumn, ReadOnlyMemory<float> query, IReadOnlyList<string> keywords, int textColumn, int top, int skip, FilterNode? filter, double? scoreThreshold, bool includeVectors, CancellationToken cancellationToken) =>
            Engine.HybridSearchAsync(vectorColumn, query, keywords, textColumn, top, skip, filter, scoreThreshold, includeVectors, cancellationToken);

        private DurableRecordEngine Engine
        {
            get
            {
                ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
                return shared.Engine;
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            Gate.Wait();
            try
            {
                if (--shared.References > 0 || shared.Engine.IsDisposed) return;
                Open.TryRemove(new KeyValuePair<string, Shared>(shared.Folder, shared));
                shared.Engine.Dispose();
            }
            finally
            {
                Gate.Release();
            }
        }
    }
}
