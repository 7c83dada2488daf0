using DeepRetrieval.Distances;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Indexes;

/// <summary>
/// The packed binary codes and ids shared by <see cref="BinaryFlatIndex"/> and <see cref="LshIndex"/>: dense rows with
/// swap removal, exhaustive Hamming k-nearest and range search, and the codes' part of the index file.
/// </summary>
internal sealed class BinaryCodeStore
{
    // Distances are computed a block at a time into a stack buffer, so the popcount loop runs without branches.
    private const int BlockSize = 256;
    private readonly RowIds _rows = new();
    private byte[] _codes = [];

    public BinaryCodeStore(int codeSize) => CodeSize = codeSize;

    public int CodeSize { get; }

    public int Count => _rows.Count;

    public long MemoryUsageBytes => _codes.LongLength + _rows.MemoryUsageBytes;

    public bool Contains(long id) => _rows.Contains(id);

    public ReadOnlySpan<byte> CodeOf(long id) => _codes.AsSpan(_rows.RowOf(id) * CodeSize, CodeSize);

    /// <summary>Checks that the ids are new and the store can grow; changes nothing.</summary>
    public void CheckAdd(ReadOnlySpan<long> ids, string parameterName)
    {
        _rows.CheckNew(ids, parameterName);
        if (((long)_rows.Count + ids.Length) * CodeSize > Array.MaxLength)
            throw new InvalidOperationException($"An index with {CodeSize}-byte codes holds at most {Array.MaxLength / CodeSize} vectors.");
    }

    /// <summary>Appends checked codes (one per id).</summary>
    public void Append(ReadOnlySpan<byte> codes, ReadOnlySpan<long> ids)
    {
        EnsureCapacity(_rows.Count + ids.Length);
        for (int r = 0; r < ids.Length; r++)
            codes.Slice(r * CodeSize, CodeSize).CopyTo(_codes.AsSpan(_rows.Append(ids[r]) * CodeSize, CodeSize));
    }

    public int Remove(ReadOnlySpan<long> ids)
    {
        return _rows.RemoveCompacting(ids, _codes, CodeSize);
    }

    /// <summary>
    /// The k nearest codes of each query code by Hamming distance (ties by ascending id), written as float keys;
    /// missing neighbours get id −1 and key NaN.
    /// </summary>
    public void Search(ReadOnlySpan<byte> queryCodes, int rows, int k, Span<long> ids, Span<float> keys, SearchOptions options)
    {
        Func<long, bool>? filter = options.Filter;
        int threads = options.ResolveThreads(rows);
        if (rows == 1 || threads == 1)
        {
            for (int q = 0; q < rows; q++)
                SearchOne(queryCodes.Slice(q * CodeSize, CodeSize), ids.Slice(q * k, k), keys.Slice(q * k, k), filter);
            return;
        }

        // Parallel bodies cannot capture spans, so the batch goes through arrays and is copied back.
        byte[] batch = queryCodes[..(rows * CodeSize)].ToArray();
        var outIds = new long[rows * k];
        var outKeys = new float[rows * k];
        Parallel.For(0, rows, new ParallelOptions { MaxDegreeOfParallelism = threads }, q =>
            SearchOne(batch.AsSpan(q * CodeSize, CodeSize), outIds.AsSpan(q * k, k), outKeys.AsSpan(q * k, k), filter));
        outIds.CopyTo(ids);
        outKeys.CopyTo(keys);
    }

    /// <summary>Every code within Hamming distance below <paramref name="limit"/> of each query, closest first, reported through <paramref name="report"/>.</summary>
    public RangeSearchResult RangeSearch(ReadOnlySpan<byte> queryCodes, int rows, int limit, Func<int, float> report, SearchOptions options)
    {
        byte[] batch = queryCodes[..(rows * CodeSize)].ToArray();
        Func<long, bool>? filter = options.Filter;
        var perQuery = new List<(int Distance, long Id)>[rows];
        Parallel.For(0, rows, new ParallelOptions { MaxDegreeOfParallelism = options.ResolveThreads(rows) }, q =>
        {
            var list = new List<(int Distance, long Id)>();
            Span<int> block = stackalloc int[BlockSize];
            ReadOnlySpan<byte> query = batch.AsSpan(q * CodeSize, CodeSize);
            for (int start = 0; start < _rows.Count; start += BlockSize)
            {
                int n = Math.Min(BlockSize, _rows.Count - start);
                HammingScan.Distances(query, _codes.AsSpan(start * CodeSize, n * CodeSize), block);
                for (int i = 0; i < n; i++)
                {
                    if (block[i] >= limit) continue;
                    long id = _rows.Ids[start + i];
                    if (filter is null || filter(id)) list.Add((block[i], id));
                }
            }
            list.Sort();
            perQuery[q] = list;
        });

        var offsets = new long[rows + 1];
        for (int i = 0; i < rows; i++) offsets[i + 1] = offsets[i] + perQuery[i].Count;
        var resultIds = new long[offsets[rows]];
        var resultDistances = new float[offsets[rows]];
        for (int i = 0; i < rows; i++)
        {
            int o = (int)offsets[i];
            foreach (var (distance, id) in perQuery[i])
            {
                resultIds[o] = id;
                resultDistances[o++] = report(distance);
            }
        }
        return new RangeSearchResult(offsets, resultIds, resultDistances);
    }

    public void Write(IndexPayloadWriter writer)
    {
        writer.WriteInt64(_rows.Count);
        writer.WriteSpan<long>(_rows.Ids.AsSpan(0, _rows.Count));
        writer.WriteSpan<byte>(_codes.AsSpan(0, _rows.Count * CodeSize));
    }

    /// <summary>Reads what <see cref="Write"/> wrote, checking every id is below <paramref name="nextId"/> and unique.</summary>
    public void Read(IndexPayloadReader reader, long nextId)
    {
        long count = reader.ReadInt64("count", 0, Array.MaxLength / CodeSize);
        long[] ids = reader.ReadArray<long>(count, "ids");
        byte[] codes = reader.ReadArray<byte>(count * CodeSize, "codes");
        foreach (long id in ids)
            if (id < 0 || id >= nextId) throw reader.Corrupt($"id {id} is negative or not below the next id {nextId}");
        try
        {
            _rows.CheckNew(ids, nameof(ids));
        }
        catch (ArgumentException e)
        {
            throw reader.Corrupt(e.Message);
        }
        Append(codes, ids);
    }

    private void SearchOne(ReadOnlySpan<byte> query, Span<long> ids, Span<float> keys, Func<long, bool>? filter)
    {
        var heap = new TopKHeap(keys, ids);
        Span<int> block = stackalloc int[BlockSize];
        long[] rowIds = _rows.Ids;
        for (int start = 0; start < _rows.Count; start += BlockSize)
        {
            int n = Math.Min(BlockSize, _rows.Count - start);
            HammingScan.Distances(query, _codes.AsSpan(start * CodeSize, n * CodeSize), block);
            for (int i = 0; i < n; i++)
            {
                float distance = block[i];
                if (distance > heap.Threshold) continue;
                long id = rowIds[start + i];
                if (filter is null || filter(id)) heap.Push(distance, id);
            }
        }
        heap.SortAndPad();
    }

    private void EnsureCapacity(int rows)
    {
        if (_rows.Capacity >= rows) return;
        // Grow to exactly what a first batch needs, doubling after that so repeated small adds stay amortised.
        int capacity = _rows.Capacity == 0 ? rows : (int)Math.Max(rows, Math.Min(_rows.Capacity * 2L, Array.MaxLength / CodeSize));
        Array.Resize(ref _codes, capacity * CodeSize);
        _rows.Resize(capacity);
    }
}
