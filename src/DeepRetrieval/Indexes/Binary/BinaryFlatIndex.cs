using System.Buffers;
using DeepRetrieval.Hashing;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Indexes.Binary;

/// <summary>
/// Exhaustive Hamming search over packed binary codes (Faiss <c>IndexBinaryFlat</c>, factory token <c>BFlat</c>): the
/// flat <see cref="IBinaryIndex"/>, for perceptual image hashes (64-bit aHash, dHash, pHash; wHash) and ITQ or LSH codes.
/// Each code holds <see cref="Bits"/> bits, <see cref="CodeSize"/> = bits / 8 bytes.
/// </summary>
/// <remarks>
/// <para>Codes go in and out through <see cref="IBinaryIndex"/>: bit j of a code is bit j % 8 (least significant first) of
/// byte j / 8, distances are whole bit counts. A scan reads codes as 64-bit words and counts bits with the hardware
/// popcount, with the query held in registers for 8-, 16-, 32- and 64-byte codes; AVX-512 machines compare 16 distances
/// with the current k-th best at once, so only the few candidates that can enter the top k reach the heap.</para>
/// <para>It is also an <see cref="IVectorIndex"/> of <see cref="VectorIndex.Dimension"/> = <see cref="Bits"/> components, as
/// Faiss uses a binary index after a transform (<c>ITQ64,BFlat</c>): every float vector is binarised by sign (component j
/// sets bit j when it is strictly positive) and the reported distances are the Hamming counts as floats, so its
/// <see cref="VectorIndex.Metric"/> is <see cref="Metric.Hamming"/>. Float vectors cannot be reconstructed from sign bits
/// (<see cref="VectorIndex.Reconstruction"/> is <see cref="ReconstructionKind.None"/>); the codes can, through
/// <see cref="Reconstruct(long, Span{byte})"/>.</para>
/// <para>Equal distances are ordered by ascending id; searching for more neighbours than are stored pads with id −1 (and
/// distance −1, or NaN through the float contract). Removing moves the last code into the hole. Thread safety: searches, range searches, <c>Contains</c>, <c>Reconstruct</c>, <c>GetIds</c> and saves
/// may run concurrently with each other; adds and removes must not overlap anything else
/// (saves included; the table is in docs/indexes.md, and a stress test per kind holds it).</para>
/// </remarks>
public sealed class BinaryFlatIndex : VectorIndex, IBinaryIndex
{
    /// <summary>The kind name used by the factory and the index file.</summary>
    public const string KindName = IndexKinds.BinaryFlat;

    // BFlat: binary codes of the input's width (after ITQ<bits>, the transform's output).
    internal static readonly IndexKindDescriptor Registration = new(KindName, ReadPayload)
    {
        Create = ParseToken,
        FactorySyntax = KindName,
    };

    private readonly BinaryCodeStore _store;

    /// <summary>Creates an empty index of codes with <paramref name="bits"/> bits.</summary>
    /// <param name="bits">Bits per code, a positive multiple of 8 (64 for aHash, dHash and pHash).</param>
    /// <exception cref="ArgumentException">The bit count is not a multiple of 8.</exception>
    public BinaryFlatIndex(int bits) : base(bits, Metric.Hamming, allowHamming: true)
    {
        if (bits % 8 != 0)
            throw new ArgumentException($"A binary index packs 8 bits per byte, so its bit count must be a multiple of 8; got {bits}.", nameof(bits));
        _store = new BinaryCodeStore(bits / 8);
    }

    /// <inheritdoc />
    public int Bits => Dimension;

    /// <summary>Bytes per code: <see cref="Bits"/> / 8.</summary>
    public int CodeSize => _store.CodeSize;

    /// <inheritdoc cref="IIndex.Count" />
    public override long Count => _store.Count;

    /// <inheritdoc cref="IIndex.Kind" />
    public override string Kind => KindName;

    /// <inheritdoc cref="IIndex.MemoryUsageBytes" />
    public override long MemoryUsageBytes => _store.MemoryUsageBytes;

    /// <inheritdoc cref="IIndex.Contains" />
    public override bool Contains(long id) => _store.Contains(id);

    /// <inheritdoc cref="IIndex.GetIds" />
    public override long[] GetIds() => _store.Ids();

    /// <inheritdoc />
    public void Reconstruct(long id, Span<byte> destination)
    {
        if (destination.Length != CodeSize)
            throw new ArgumentException($"The destination must hold {CodeSize} bytes; got {destination.Length}.", nameof(destination));
        _store.CodeOf(id).CopyTo(destination);
    }

    /// <inheritdoc />
    public void Add(ReadOnlySpan<byte> codes, ReadOnlySpan<long> ids)
    {
        if (codes.Length != (long)ids.Length * CodeSize)
            throw new ArgumentException($"Expected {ids.Length} codes of {CodeSize} bytes ({(long)ids.Length * CodeSize} bytes) for {ids.Length} ids, but got {codes.Length} bytes. Check the code length.", nameof(codes));
        long max = CheckIds(ids, nameof(ids));
        if (ids.IsEmpty) return;
        _store.CheckAdd(ids, nameof(ids));
        _store.Append(codes, ids);
        RaiseNextId(max + 1);
    }

    /// <inheritdoc />
    public long Add(ReadOnlySpan<byte> codes)
    {
        if (codes.Length % CodeSize != 0)
            throw new ArgumentException($"Expected whole codes of {CodeSize} bytes, but got {codes.Length} bytes. Check the code length.", nameof(codes));
        int rows = codes.Length / CodeSize;
        long first = NextId;
        if (first > long.MaxValue - 1 - rows)
            throw new InvalidOperationException($"No automatic ids are left: the next id is {first}, and {rows} more would pass the largest id, long.MaxValue − 1. Pass your own ids.");
        long[] ids = ArrayPool<long>.Shared.Rent(rows);
        try
        {
            for (int i = 0; i < rows; i++) ids[i] = first + i;
            Add(codes, ids.AsSpan(0, rows));
        }
        finally
        {
            ArrayPool<long>.Shared.Return(ids);
        }
        return first;
    }

    /// <inheritdoc />
    public void Search(ReadOnlySpan<byte> queries, int k, Span<long> ids, Span<int> distances, SearchOptions? options = null)
    {
        if (queries.Length % CodeSize != 0)
            throw new ArgumentException($"Expected whole codes of {CodeSize} bytes, but got {queries.Length} bytes. Check the code length.", nameof(queries));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        int rows = queries.Length / CodeSize;
        long needed = (long)rows * k;
        if (needed > Array.MaxLength)
            throw new ArgumentException($"queryCount × k = {needed} results exceed the largest array; search in smaller batches.");
        if (ids.Length < needed || distances.Length < needed)
            throw new ArgumentException($"The result buffers must hold queryCount × k = {needed} values; got {ids.Length} ids and {distances.Length} distances.");
        options ??= SearchOptions.Default;
        options.ResolveThreads(1);
        if (rows == 0) return;
        float[] keys = ArrayPool<float>.Shared.Rent((int)needed);
        try
        {
            Span<float> keySpan = keys.AsSpan(0, (int)needed);
            if (Count == 0)
                ids[..(int)needed].Fill(SearchResult.MissingId);
            else
                _store.Search(queries, rows, k, ids[..(int)needed], keySpan, options);
            for (int i = 0; i < needed; i++)
                distances[i] = ids[i] == SearchResult.MissingId ? -1 : (int)keySpan[i];
        }
        finally
        {
            ArrayPool<float>.Shared.Return(keys);
        }
    }

    /// <inheritdoc />
    public BinaryRangeSearchResult RangeSearch(ReadOnlySpan<byte> queries, int radius, SearchOptions? options = null)
    {
        if (queries.Length % CodeSize != 0)
            throw new ArgumentException($"Expected whole codes of {CodeSize} bytes, but got {queries.Length} bytes. Check the code length.", nameof(queries));
        ArgumentOutOfRangeException.ThrowIfNegative(radius);
        options ??= SearchOptions.Default;
        options.ResolveThreads(1);
        int rows = queries.Length / CodeSize;
        if (rows == 0 || Count == 0) return new BinaryRangeSearchResult(new long[rows + 1], [], []);
        return _store.RangeSearch(queries, rows, Math.Min(radius, Bits + 1), options);
    }

    /// <inheritdoc />
    protected override void AddCore(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids, int rows)
    {
        _store.CheckAdd(ids, nameof(ids));
        byte[] codes = ArrayPool<byte>.Shared.Rent(rows * CodeSize);
        try
        {
            SignBits.PackRows(vectors, Dimension, codes);
            _store.Append(codes.AsSpan(0, rows * CodeSize), ids);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(codes);
        }
    }

    /// <inheritdoc />
    protected override void SearchCore(ReadOnlySpan<float> queries, int rows, int k, Span<long> ids, Span<float> distances, SearchOptions options)
    {
        byte[] codes = ArrayPool<byte>.Shared.Rent(rows * CodeSize);
        try
        {
            SignBits.PackRows(queries, Dimension, codes);
            _store.Search(codes.AsSpan(0, rows * CodeSize), rows, k, ids, distances, options);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(codes);
        }
    }

    /// <inheritdoc />
    protected override RangeSearchResult RangeSearchCore(ReadOnlySpan<float> queries, int rows, float radius, SearchOptions options)
    {
        var codes = new byte[rows * CodeSize];
        SignBits.PackRows(queries, Dimension, codes);
        // Hamming distance h is an integer, so h < radius exactly when h < ⌈radius⌉.
        int limit = (int)Math.Clamp(MathF.Ceiling(radius), 0f, Dimension + 1f);
        return _store.RangeSearch(codes, rows, limit, h => h, options);
    }

    /// <inheritdoc cref="IIndex.Remove" />
    protected override int RemoveCore(ReadOnlySpan<long> ids) => _store.Remove(ids);

    /// <inheritdoc />
    protected override void WritePayload(IndexPayloadWriter writer)
    {
        writer.WriteInt32(Dimension);
        writer.WriteInt64(NextId);
        _store.Write(writer);
    }

    internal static BinaryFlatIndex ReadPayload(IndexPayloadReader reader)
    {
        int bits = reader.ReadInt32("bit count", 8, 1 << 20);
        if (bits % 8 != 0) throw reader.Corrupt($"bit count {bits} is not a multiple of 8");
        long nextId = reader.ReadInt64("next id", 0, long.MaxValue);
        var index = new BinaryFlatIndex(bits) { NextId = nextId };
        index._store.Read(reader, nextId);
        return index;
    }

    private static IIndex? ParseToken(IndexFactoryCursor cursor)
    {
        if (cursor.Token != KindName) return null;
        if (cursor.RequestedMetric is { } metric && metric != Metric.Hamming)
            throw cursor.Error($"compares binary codes by Hamming distance and reports Metric.Hamming; {metric} was asked for (omit the metric or pass Metric.Hamming)");
        return cursor.Build(() => new BinaryFlatIndex(cursor.Dimension));
    }
}
