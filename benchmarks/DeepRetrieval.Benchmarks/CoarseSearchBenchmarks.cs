using BenchmarkDotNet.Attributes;
using DeepRetrieval.Clustering;
using DeepRetrieval.Data;
using DeepRetrieval.Datasets;
using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Ivf;

namespace DeepRetrieval.Benchmarks;

/// <summary>
/// IVF's coarse search for one query on Fashion-MNIST: the 8 nearest of 1,024 k-means centroids of 784 floats
/// (IVF1024 at nprobe 8). An exact scan of every centroid (<see cref="FlatIndex"/>, what Faiss's IndexIVFFlat does
/// per query, the baseline) against <see cref="PrunedCentroidSearch"/>, which returns the same lists; and the cost
/// of building the latter, paid at training and loading. Needs Debian's <c>dataset-fashion-mnist</c> (or
/// <c>FASHION_MNIST_DIR</c>).
/// </summary>
public class CoarseSearchBenchmarks
{
    private const int Lists = 1024;
    private const int Probes = 8;

    private float[] _centroids = [];
    private float[] _queries = [];
    private int _dimension;
    private FlatIndex _flat = null!;
    private PrunedCentroidSearch _pruned = null!;
    private readonly IvfScratch _scratch = new();
    private readonly long[] _ids = new long[Probes];
    private readonly float[] _keys = new float[Probes];
    private readonly SearchOptions _oneThread = new() { MaxDegreeOfParallelism = 1 };
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        if (!FashionMnist.TryFindDefault(out string? directory))
            throw new InvalidOperationException($"Fashion-MNIST not found: install dataset-fashion-mnist or set {FashionMnist.DirectoryEnvironmentVariable}.");
        FashionMnist data = FashionMnist.Load(directory, maxTest: 2000);
        _dimension = data.TrainImages.PixelsPerImage;
        _queries = data.TestImages.ToFloat(1f);
        float[] train = data.TrainImages.ToFloat(1f);
        _centroids = new KMeans(new KMeansOptions { K = Lists, Iterations = 10, Seed = 1234 }).Train(train, _dimension).Centroids;
        _flat = new FlatIndex(_dimension);
        _flat.Add(_centroids);
        _pruned = PrunedCentroidSearch.TryCreate(_centroids, Lists, _dimension, innerProduct: false)!;
    }

    private ReadOnlySpan<float> NextQuery()
    {
        int q = _next++ % (_queries.Length / _dimension);
        return _queries.AsSpan(q * _dimension, _dimension);
    }

    [Benchmark(Baseline = true)]
    public long FlatScan()
    {
        _flat.Search(NextQuery(), Probes, _ids, _keys, _oneThread);
        return _ids[0];
    }

    [Benchmark]
    public long Pruned()
    {
        _pruned.Search(NextQuery(), _ids, _keys, _scratch);
        return _ids[0];
    }

    [Benchmark]
    public int BuildPruned() => PrunedCentroidSearch.TryCreate(_centroids, Lists, _dimension, innerProduct: false)!.Rank;
}
