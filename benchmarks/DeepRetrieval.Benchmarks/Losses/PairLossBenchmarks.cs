using BenchmarkDotNet.Attributes;
using DeepRetrieval.Torch.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Benchmarks.Losses;

/// <summary>
/// Forward + backward of each pair, tuple, proxy and centre loss on one batch of 256 float32 embeddings of dimension 128,
/// 32 classes × 8 (every pair and every triplet of the batch, no miner), on the CPU with <see cref="Threads"/> intra-op threads.
/// </summary>
public class PairLossBenchmarks
{
    private const int Classes = 32, PerClass = 8, Dimension = 128;
    private Tensor _embeddings = null!;
    private Tensor _labels = null!;
    private MetricLoss _loss = null!;

    [Params("Contrastive", "TripletMargin", "Quadruplet", "MultiSimilarity", "Circle", "NTXent", "SupCon", "ProxyAnchor", "Center", "Island")]
    public string Loss { get; set; } = "";

    /// <summary>TorchSharp intra-op threads (1 keeps a shared machine's figures comparable).</summary>
    [Params(1)]
    public int Threads { get; set; } = 1;

    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(Threads);
        manual_seed(1);
        _embeddings = randn(Classes * PerClass, Dimension).DetachFromDisposeScope();
        _labels = arange(Classes, dtype: ScalarType.Int64).repeat_interleave(PerClass).DetachFromDisposeScope();
        _loss = Loss switch
        {
            "Contrastive" => new ContrastiveLoss(),
            "TripletMargin" => new TripletMarginLoss(),
            "Quadruplet" => new QuadrupletLoss(),
            "MultiSimilarity" => new MultiSimilarityLoss(),
            "Circle" => new CircleLoss(),
            "NTXent" => new NTXentLoss(),
            "SupCon" => new SupConLoss(),
            "ProxyAnchor" => new ProxyAnchorLoss(Classes, Dimension),
            "Center" => new CenterLoss(Classes, Dimension),
            "Island" => new IslandLoss(Classes, Dimension),
            _ => throw new ArgumentException($"Unknown loss {Loss}."),
        };
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _loss.Dispose();
        _embeddings.Dispose();
        _labels.Dispose();
    }

    [Benchmark]
    public float ForwardBackward()
    {
        using var scope = NewDisposeScope();
        Tensor x = _embeddings.detach().requires_grad_(true);
        Tensor value = _loss.forward(x, _labels);
        value.backward();
        return value.item<float>();
    }
}
