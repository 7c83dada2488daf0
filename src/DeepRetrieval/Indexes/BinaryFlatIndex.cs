using System.Buffers;
using DeepRetrieval.Hashing;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Indexes;

/// <summary>
/// Exhaustive Hamming search over packed binary codes (Faiss <c>IndexBinaryFlat</c>, factory token <c>BFlat</c>). Each
/// code holds <see cref="VectorIndex.Dimension"/> bits, <see cref="CodeSize"/> = dimension / 8 bytes.
/// </summary>
/// <remarks>
/// <para>Through the float contract (<see cref="VectorIndex.Add(ReadOnlySpan{float}, ReadOnlySpan{long})"/>,
/// <see cref="VectorIndex.Search(ReadOnlySpan{float}, int, Span{long}, Span{float}, SearchOptions?)"/>) every vector is
/// binarised by sign: component j sets bit j when it is strictly positive, as Faiss does after a transform such as ITQ
/// (<c>ITQ64,BFlat</c>). Reported distances are Hamming counts (0 … dimension) as floats, smaller is closer, so
/// <see cref="VectorIndex.Metric"/> is <see cref="Metric.L2"/>; a range search returns the codes whose Hamming distance
/// is strictly below the radius.</para>
/// <para>Callers who already have codes use <see cref="AddCodes"/> and <see cref="SearchCodes"/>; bit j of a vector is
/// bit j % 8 (least significant first) of byte j / 8.</para>
/// <para>Equal distances are ordered by ascending id; searching for more neighbours than are stored pads with id −1
/// (and distance NaN, or −1 in <see cref="SearchCodes"/>). Removing moves the last code into the hole. Searches may run
/// concurrently with each other; adds and removes must not overlap anything else.</para>
/// </remarks>
public sealed class BinaryFlatIndex : VectorIndex
{
    /// <summary>The kind name used by the factory and the index file.</summary>
    internal const string KindName = "BFlat";

    private readonly BinaryCodeStore _store;

    /// <summary>Creates an empty index of codes with <paramref name="dimension"/> bits.</summary>
    /// <param name="dimension">Bits per code, a positive multiple of 8.</param>
    /// <exception cref="ArgumentException">The dimension is not a multiple of 8.</exception>
    public BinaryFlatIndex(int dimension) : base(dimension, Metric.L2)
    {
        if (dimension % 8 != 0)
            throw new ArgumentException($"A binary index packs 8 bits per byte, so its dimension must be a multiple of 8; got {dimension}.", nameof(dimension));
        _store = new BinaryCodeStore(dimension / 8);
    }

    /// <summary>Bytes per code: dimension / 8.</summary>
    public int CodeSize => _store.CodeSize;

    /// <inheritdoc />
    public override long Count => _store.Count;

    /// <inheritdoc />
    public override string Kind => KindName;

    /// <inheritdoc />
    public override long MemoryUsageBytes => _store.MemoryUsageBytes;

    /// <summary>True when <paramref name="id"/> is stored.</summary>
    /// <param name="id">The id.</param>
    public bool Contains(long id) => _store.Contains(id);

    /// <summary>Copies the stored code of <paramref name="id"/>.</summary>
    /// <param name="id">A stored id.</param>
    /// <param name="destination">Receives <see cref="CodeSize"/> bytes.</param>
    /// <exception cref="KeyNotFoundException">The id is not stored.</exception>
    public void ReconstructCode(long id, Span<byte> destination)
    {
        if (destination.Length != CodeSize)
            throw new ArgumentException($"The destination must hold {CodeSize} bytes; got {destination.Length}.", nameof(destination));
        _store.CodeOf(id).CopyTo(destination);
    }

    /// <summary>Adds packed codes with the caller's ids.</summary>
    /// <param name="codes">Consecutive codes of <see cref="CodeSize"/> bytes, one per id.</param>
    /// <param name="ids">One non-negative id per code, none already stored.</param>
    /// <exception cref="ArgumentException">The byte count is not one code per id, or an id is negative or duplicate.</exception>
    public void AddCodes(ReadOnlySpan<byte> codes, ReadOnlySpan<long> ids)
    {
        if (codes.Length != (long)ids.Length * CodeSize)
            throw new ArgumentException($"Expected {ids.Length} codes of {CodeSize} bytes ({(long)ids.Length * CodeSize} bytes) for {ids.Length} ids, but got {codes.Length} bytes. Check the code length.", nameof(codes));
        long max = -1;
        foreach (long id in ids)
        {
            if (id < 0) throw new ArgumentException($"Ids must be non-negative; got {id}.", nameof(ids));
            max = Math.Max(max, id);
        }
        if (ids.IsEmpty) return;
        _store.CheckAdd(ids, nameof(ids));
        _store.Append(codes, ids);
        NextId = Math.Max(NextId, max + 1);
    }

    /// <summary>
    /// Finds the <paramref name="k"/> codes nearest to each query code by Hamming distance, closest first (ties by
    /// ascending id). Missing neighbours get id −1 and distance −1.
    /// </summary>
    /// <param name="queryCodes">Consecutive query codes of <see cref="CodeSize"/> bytes.</param>
    /// <param name="k">Neighbours per query; positive.</param>
    /// <param name="ids">Receives queryCount × k ids.</param>
    /// <param name="distances">Receives queryCount × k Hamming distances.</param>
    /// <param name="options">Threads and filter; null for defaults.</param>
    public void SearchCodes(ReadOnlySpan<byte> queryCodes, int k, Span<long> ids, Span<int> distances, SearchOptions? options = null)
    {
        if (queryCodes.Length % CodeSize != 0)
            throw new ArgumentException($"Expected whole codes of {CodeSize} bytes, but got {queryCodes.Length} bytes. Check the code length.", nameof(queryCodes));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        int rows = queryCodes.Length / CodeSize;
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
                _store.Search(queryCodes, rows, k, ids[..(int)needed], keySpan, options);
            for (int i = 0; i < needed; i++)
                distances[i] = ids[i] == SearchResult.MissingId ? -1 : (int)keySpan[i];
        }
        finally
        {
            ArrayPool<float>.Shared.Return(keys);
        }
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

    /// <inheritdoc />
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
        int dimension = reader.ReadInt32("dimension", 8, 1 << 20);
        if (dimension % 8 != 0) throw reader.Corrupt($"dimension {dimension} is not a multiple of 8");
        long nextId = reader.ReadInt64("next id", 0, long.MaxValue);
        var index = new BinaryFlatIndex(dimension) { NextId = nextId };
        index._store.Read(reader, nextId);
        return index;
    }
}
