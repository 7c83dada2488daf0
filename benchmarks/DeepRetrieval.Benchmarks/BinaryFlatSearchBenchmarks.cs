using BenchmarkDotNet.Attributes;
using DeepRetrieval.Distances;
using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Binary;

namespace DeepRetrieval.Benchmarks;

/// <summary>
/// One top-10 query against a million codes of 64 bits (perceptual hashes) or 256 bits, one thread: the flat binary
/// index's fused scan (AVX-512BW nibble-lookup popcount, VPSADBW, 8 or 2 codes per vector, the k-th best compared 8 at a
/// time) against the block scan it replaced (<see cref="HammingScan"/>'s unrolled POPCNT into a block of 256 distances,
/// then the heap loop), the baseline.
/// </summary>
public class BinaryFlatSearchBenchmarks
{
    private const int Count = 1_000_000;

    [Params(64, 256)]
    public int Bits { get; set; }

    private byte[] _codes = [];
    private byte[] _query = [];
    private long[] _rowIds = [];
    private BinaryFlatIndex _index = null!;
    private readonly long[] _ids = new long[10];
    private readonly int[] _distances = new int[10];
    private readonly float[] _keys = new float[10];
    private readonly SearchOptions _oneThread = new() { MaxDegreeOfParallelism = 1 };

    [GlobalSetup]
    public void Setup()
    {
        int codeSize = Bits / 8;
        _codes = RandomData.Bytes(Count * codeSize, seed: 21);
        _query = RandomData.Bytes(codeSize, seed: 22);
        _rowIds = new long[Count];
        for (int i = 0; i < Count; i++) _rowIds[i] = i;
        _index = new BinaryFlatIndex(Bits);
        _index.Add(_codes, _rowIds);
    }

    [Benchmark(Baseline = true)]
    public long BlockScan_Top10()
    {
        int codeSize = Bits / 8;
        var heap = new TopKHeap(_keys, _ids);
        Span<int> block = stackalloc int[256];
        for (int start = 0; start < Count; start += 256)
        {
            int n = Math.Min(256, Count - start);
            HammingScan.Distances(_query, _codes.AsSpan(start * codeSize, n * codeSize), block);
            for (int i = 0; i < n; i++)
                if (block[i] <= heap.Threshold) heap.Push(block[i], _rowIds[start + i]);
        }
        heap.SortAndPad();
        return _ids[0];
    }

    [Benchmark]
    public long Search_Top10()
    {
        _index.Search(_query, 10, _ids, _distances, _oneThread);
        return _ids[0];
    }
}
