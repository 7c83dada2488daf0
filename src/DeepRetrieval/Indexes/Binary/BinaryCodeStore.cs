using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using DeepRetrieval.Distances;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Indexes.Binary;

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

    public long[] Ids() => _rows.Snapshot();

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
        Func<long, bool>? filter = options.Predicate;
        int threads = options.ResolveThreads(rows);
        if (rows == 1 || threads == 1)
        {
            for (int q = 0; q < rows; q++)
                SearchOne(queryCodes.Slice(q * CodeSize, CodeSize), ids.Slice(q * k, k), keys.Slice(q * k, k), filter);
            return;
        }
        SearchParallel(queryCodes, rows, k, ids, keys, filter, threads);
    }

    // Apart from Search so that the lambda's closure is allocated only for parallel batches, not for every single query.
    private void SearchParallel(ReadOnlySpan<byte> queryCodes, int rows, int k, Span<long> ids, Span<float> keys, Func<long, bool>? filter, int threads)
    {
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
        var (offsets, ids, distances) = Pack(RangeSearchLists(queryCodes, rows, limit, options), report);
        return new RangeSearchResult(offsets, ids, distances);
    }

    /// <summary>Every code within Hamming distance below <paramref name="limit"/> of each query, closest first, with whole-number distances.</summary>
    public BinaryRangeSearchResult RangeSearch(ReadOnlySpan<byte> queryCodes, int rows, int limit, SearchOptions options)
    {
        var (offsets, ids, distances) = Pack(RangeSearchLists(queryCodes, rows, limit, options), distance => distance);
        return new BinaryRangeSearchResult(offsets, ids, distances);
    }

    // Concatenates sorted per-query lists into compressed rows, each distance reported through `report`.
    private static (long[] Offsets, long[] Ids, T[] Distances) Pack<T>(List<(int Distance, long Id)>[] perQuery, Func<int, T> report)
    {
        int rows = perQuery.Length;
        var offsets = new long[rows + 1];
        for (int i = 0; i < rows; i++) offsets[i + 1] = offsets[i] + perQuery[i].Count;
        var ids = new long[offsets[rows]];
        var distances = new T[offsets[rows]];
        for (int i = 0; i < rows; i++)
        {
            int o = (int)offsets[i];
            foreach (var (distance, id) in perQuery[i])
            {
                ids[o] = id;
                distances[o++] = report(distance);
            }
        }
        return (offsets, ids, distances);
    }

    private List<(int Distance, long Id)>[] RangeSearchLists(ReadOnlySpan<byte> queryCodes, int rows, int limit, SearchOptions options)
    {
        byte[] batch = queryCodes[..(rows * CodeSize)].ToArray();
        Func<long, bool>? filter = options.Predicate;
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
        return perQuery;
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
        int count = _rows.Count;
        if (CodeSize == 8 && Avx512BW.IsSupported)
            Scan8Avx512(query, count, ref heap, filter);
        else if (CodeSize == 32 && Avx512BW.IsSupported)
            Scan32Avx512(query, count, ref heap, filter);
        else
            ScanBlocks(query, 0, count, ref heap, filter);
        heap.SortAndPad();
    }

    // Any code size: distances a block at a time into a stack buffer (the popcount loop runs without branches), then the
    // few that can enter the top k go to the heap.
    private void ScanBlocks(ReadOnlySpan<byte> query, int first, int end, ref TopKHeap heap, Func<long, bool>? filter)
    {
        Span<int> block = stackalloc int[BlockSize];
        long[] rowIds = _rows.Ids;
        for (int start = first; start < end; start += BlockSize)
        {
            int n = Math.Min(BlockSize, end - start);
            HammingScan.Distances(query, _codes.AsSpan(start * CodeSize, n * CodeSize), block);
            for (int i = 0; i < n; i++)
            {
                float distance = block[i];
                if (distance > heap.Threshold) continue;
                long id = rowIds[start + i];
                if (filter is null || filter(id)) heap.Push(distance, id);
            }
        }
    }

    // The k-th best distance as a whole number a 64-bit lane compares against (every distance passes until k are kept).
    private static ulong Threshold(in TopKHeap heap) => float.IsPositiveInfinity(heap.Threshold) ? ulong.MaxValue : (ulong)heap.Threshold;

    // Per-byte popcount by nibble lookup (Muła's VPSHUFB method), summed per 64-bit lane by VPSADBW: the popcount of each
    // 64-bit word, 8 words per instruction sequence. (.NET 10 exposes no AVX-512 VPOPCNTQ, which would do this in one.)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> PopCount64(Vector512<ulong> words)
    {
        Vector512<byte> table = Vector512.Create((byte)0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
            0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
        Vector512<byte> nibble = Vector512.Create((byte)0x0F);
        Vector512<byte> bytes = words.AsByte();
        Vector512<byte> low = bytes & nibble;
        Vector512<byte> high = Vector512.ShiftRightLogical(words, 4).AsByte() & nibble;
        Vector512<byte> counts = Avx512BW.Shuffle(table, low) + Avx512BW.Shuffle(table, high);
        return Avx512BW.SumAbsoluteDifferences(counts, Vector512<byte>.Zero).AsUInt64();
    }

    // 64-bit codes (aHash, dHash, pHash): eight codes per 512-bit vector, the distances compared with the k-th best at
    // once, so only the codes that can enter the top k reach the heap.
    private unsafe void Scan8Avx512(ReadOnlySpan<byte> query, int count, ref TopKHeap heap, Func<long, bool>? filter)
    {
        var q = Vector512.Create(BinaryPrimitives.ReadUInt64LittleEndian(query));
        long[] rowIds = _rows.Ids;
        var threshold = Vector512.Create(Threshold(heap));
        int i = 0;
        fixed (byte* codes = _codes)
        {
            ulong* words = (ulong*)codes;
            for (; i <= count - 8; i += 8)
            {
                Vector512<ulong> distances = PopCount64(Vector512.Load(words + i) ^ q);
                ulong pass = Vector512.LessThanOrEqual(distances, threshold).ExtractMostSignificantBits();
                if (pass == 0) continue;
                Offer(pass, distances, rowIds, i, pairedLanes: false, ref heap, filter);
                threshold = Vector512.Create(Threshold(heap));
            }
        }
        ScanBlocks(query, i, count, ref heap, filter);
    }

    // 256-bit codes: two codes per vector; four vectors' word popcounts are summed per code with unpacks and a 128-bit
    // lane shuffle, giving eight distances in the order 0, 2, 1, 3, 4, 6, 5, 7 (Lane maps a lane back to its code).
    private unsafe void Scan32Avx512(ReadOnlySpan<byte> query, int count, ref TopKHeap heap, Func<long, bool>? filter)
    {
        ulong q0 = BinaryPrimitives.ReadUInt64LittleEndian(query), q1 = BinaryPrimitives.ReadUInt64LittleEndian(query[8..]);
        ulong q2 = BinaryPrimitives.ReadUInt64LittleEndian(query[16..]), q3 = BinaryPrimitives.ReadUInt64LittleEndian(query[24..]);
        var q = Vector512.Create(q0, q1, q2, q3, q0, q1, q2, q3);
        long[] rowIds = _rows.Ids;
        var threshold = Vector512.Create(Threshold(heap));
        int i = 0;
        fixed (byte* codes = _codes)
        {
            ulong* words = (ulong*)codes;
            for (; i <= count - 8; i += 8)
            {
                ulong* at = words + (long)i * 4;
                Vector512<ulong> a = PopCount64(Vector512.Load(at) ^ q);       // codes 0, 1
                Vector512<ulong> b = PopCount64(Vector512.Load(at + 8) ^ q);   // codes 2, 3
                Vector512<ulong> c = PopCount64(Vector512.Load(at + 16) ^ q);  // codes 4, 5
                Vector512<ulong> d = PopCount64(Vector512.Load(at + 24) ^ q);  // codes 6, 7
                Vector512<ulong> ab = Avx512F.UnpackLow(a, b) + Avx512F.UnpackHigh(a, b); // [0w01 2w01 | 0w23 2w23 | 1w01 3w01 | 1w23 3w23]
                Vector512<ulong> cd = Avx512F.UnpackLow(c, d) + Avx512F.UnpackHigh(c, d);
                Vector512<ulong> distances = Avx512F.Shuffle4x128(ab, cd, 0x88) + Avx512F.Shuffle4x128(ab, cd, 0xDD);
                ulong pass = Vector512.LessThanOrEqual(distances, threshold).ExtractMostSignificantBits();
                if (pass == 0) continue;
                Offer(pass, distances, rowIds, i, pairedLanes: true, ref heap, filter);
                threshold = Vector512.Create(Threshold(heap));
            }
        }
        ScanBlocks(query, i, count, ref heap, filter);
    }

    // Pushes the lanes whose bit is set in `pass` (distances that can enter the top k) with their ids; the rare path.
    private static void Offer(ulong pass, Vector512<ulong> distances, long[] rowIds, int first, bool pairedLanes, ref TopKHeap heap, Func<long, bool>? filter)
    {
        do
        {
            int lane = BitOperations.TrailingZeroCount(pass);
            pass &= pass - 1;
            long id = rowIds[first + (pairedLanes ? Lane32(lane) : lane)];
            if (filter is null || filter(id)) heap.Push(distances.GetElement(lane), id);
        }
        while (pass != 0);
    }

    // Lanes 1 and 2 (and 5 and 6) of Scan32Avx512's distances hold codes 2 and 1 (6 and 5).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Lane32(int lane) => (lane & 4) | ((lane & 1) << 1) | ((lane >> 1) & 1);

    private void EnsureCapacity(int rows)
    {
        if (_rows.Capacity >= rows) return;
        // Grow to exactly what a first batch needs, doubling after that so repeated small adds stay amortised.
        int capacity = _rows.Capacity == 0 ? rows : (int)Math.Max(rows, Math.Min(_rows.Capacity * 2L, Array.MaxLength / CodeSize));
        Array.Resize(ref _codes, capacity * CodeSize);
        _rows.Resize(capacity);
    }
}
