using BenchmarkDotNet.Attributes;
using DeepRetrieval.Distances;
using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Binary;

namespace DeepRetrieval.Benchmarks;

/// <summary>
/// One query against 100,000 codes of 256 bits (32 bytes): the library's scan (<see cref="HammingScan"/>, unrolled
/// 64-bit POPCNT with the query in registers, the baseline) against a straightforward loop calling
/// <see cref="ScalarDistance.Hamming"/> per code, and a full top-10 search through <see cref="BinaryFlatIndex.Search(ReadOnlySpan{byte}, int, Span{long}, Span{int}, SearchOptions?)"/>.
/// </summary>
public class HammingBenchmarks
{
    private const int Count = 100_000;
    private const int CodeSize = 32;

    private byte[] _codes = [];
    private byte[] _query = [];
    private int[] _distances = [];
    private BinaryFlatIndex _index = null!;
    private readonly long[] _ids = new long[10];
    private readonly int[] _top = new int[10];
    private readonly SearchOptions _oneThread = new() { MaxDegreeOfParallelism = 1 };

    [GlobalSetup]
    public void Setup()
    {
        _codes = RandomData.Bytes(Count * CodeSize, seed: 11);
        _query = RandomData.Bytes(CodeSize, seed: 12);
        _distances = new int[Count];
        _index = new BinaryFlatIndex(CodeSize * 8);
        var ids = new long[Count];
        for (int i = 0; i < Count; i++) ids[i] = i;
        _index.Add(_codes, ids);
    }

    [Benchmark(Baseline = true)]
    public int Scan()
    {
        HammingScan.Distances(_query, _codes, _distances);
        return _distances[^1];
    }

    [Benchmark]
    public int Scan_Scalar()
    {
        for (int i = 0; i < Count; i++)
            _distances[i] = ScalarDistance.Hamming(_query, _codes.AsSpan(i * CodeSize, CodeSize));
        return _distances[^1];
    }

    [Benchmark]
    public long Search_Top10()
    {
        _index.Search(_query, 10, _ids, _top, _oneThread);
        return _ids[0];
    }
}
