using BenchmarkDotNet.Attributes;
using DeepRetrieval.Indexes;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Benchmarks;

/// <summary>
/// Exact batched k-NN, 1000 queries against 60,000 random vectors of dimension 784 (Fashion-MNIST's shape), k = 10,
/// on one thread: <see cref="FlatIndex"/> (the baseline) against libtorch computing ‖q‖² − 2 q·Xᵀ + ‖x‖² with one
/// <c>addmm</c> and selecting with <c>topk</c>. Each operation takes about a second, so iterations are few.
/// </summary>
[WarmupCount(2)]
[IterationCount(8)]
public class FlatSearchBenchmarks
{
    private const int BaseCount = 60_000;
    private const int QueryCount = 1_000;
    private const int Dimension = 784;
    private const int K = 10;

    private readonly SearchOptions _oneThread = new() { MaxDegreeOfParallelism = 1 };
    private FlatIndex _index = null!;
    private float[] _queries = [];
    private long[] _ids = [];
    private float[] _distances = [];
    private long[] _torchIds = [];
    private Tensor _base = null!;
    private Tensor _baseT = null!;
    private Tensor _baseNorms = null!;
    private Tensor _queryTensor = null!;

    [GlobalSetup]
    public void Setup()
    {
        float[] vectors = RandomData.Floats(BaseCount * Dimension, seed: 6);
        _queries = RandomData.Floats(QueryCount * Dimension, seed: 7);
        _index = new FlatIndex(Dimension);
        _index.Add(vectors);
        _ids = new long[QueryCount * K];
        _distances = new float[QueryCount * K];
        _torchIds = new long[QueryCount * K];

        torch.set_num_threads(1);
        _base = torch.tensor(vectors, [BaseCount, Dimension]);
        _baseT = _base.t();
        _baseNorms = _base.square().sum(1).unsqueeze(0);
        _queryTensor = torch.tensor(_queries, [QueryCount, Dimension]);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _queryTensor.Dispose();
        _baseNorms.Dispose();
        _baseT.Dispose();
        _base.Dispose();
    }

    [Benchmark(Baseline = true)]
    public long FlatIndexSearch()
    {
        _index.Search(_queries, K, _ids, _distances, _oneThread);
        return _ids[0];
    }

    [Benchmark]
    public long TorchMatmulTopK()
    {
        using var noGrad = torch.no_grad();
        using DisposeScope scope = torch.NewDisposeScope();
        Tensor scores = torch.addmm(_baseNorms, _queryTensor, _baseT, beta: 1, alpha: -2);
        scores.add_(_queryTensor.square().sum(1, keepdim: true));
        (Tensor _, Tensor indices) = scores.topk(K, dim: 1, largest: false, sorted: true);
        indices.data<long>().CopyTo(_torchIds);
        return _torchIds[0];
    }
}
