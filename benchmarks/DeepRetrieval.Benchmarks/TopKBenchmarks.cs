using BenchmarkDotNet.Attributes;
using DeepRetrieval.Indexes;

namespace DeepRetrieval.Benchmarks;

/// <summary>
/// Selecting the k smallest of 60,000 random keys: <see cref="TopKHeap"/> (the baseline, fed the way
/// <see cref="FlatIndex"/> feeds it, with a threshold test before each push) against copying and sorting everything
/// with <see cref="Array.Sort{TKey, TValue}(TKey[], TValue[])"/>.
/// </summary>
public class TopKBenchmarks
{
    private const int Count = 60_000;

    private float[] _keys = [];
    private long[] _ids = [];
    private float[] _heapKeys = [];
    private long[] _heapIds = [];
    private float[] _sortKeys = [];
    private long[] _sortIds = [];

    [Params(10, 100)]
    public int K { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _keys = RandomData.Floats(Count, seed: 5);
        _ids = new long[Count];
        for (int i = 0; i < Count; i++) _ids[i] = i;
        _heapKeys = new float[K];
        _heapIds = new long[K];
        _sortKeys = new float[Count];
        _sortIds = new long[Count];
    }

    [Benchmark(Baseline = true)]
    public long TopKHeap()
    {
        var heap = new TopKHeap(_heapKeys, _heapIds);
        float[] keys = _keys;
        for (int i = 0; i < keys.Length; i++)
        {
            if (keys[i] > heap.Threshold) continue;
            heap.Push(keys[i], i);
        }
        heap.SortAndPad();
        return _heapIds[0];
    }

    [Benchmark]
    public long ArraySort()
    {
        _keys.CopyTo(_sortKeys, 0);
        _ids.CopyTo(_sortIds, 0);
        Array.Sort(_sortKeys, _sortIds);
        return _sortIds[0];
    }
}
