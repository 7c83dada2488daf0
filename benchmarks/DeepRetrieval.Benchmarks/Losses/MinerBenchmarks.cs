using BenchmarkDotNet.Attributes;
using DeepRetrieval.Torch.Losses;
using DeepRetrieval.Torch.Miners;
using static TorchSharp.torch;

namespace DeepRetrieval.Benchmarks.Losses;

/// <summary>
/// Each miner (mining only, no graph) and the ranking losses and cross-batch memory (forward plus backward) at batch 256,
/// embedding 128, 32 classes × 8 (float32, CPU).
/// </summary>
public class MinerBenchmarks
{
    private const int BatchSize = 256, EmbeddingSize = 128, ClassCount = 32;

    private Tensor _embeddings = null!;
    private Tensor _labels = null!;
    private IMiner? _miner;
    private nn.Module<Tensor, Tensor, Tensor>? _loss;

    /// <summary>Which miner or loss is measured.</summary>
    [Params("BatchHardMiner", "BatchAllMiner", "SemiHardMiner", "MultiSimilarityMiner", "PairMarginMiner", "SmoothAPLoss", "FastAPLoss",
        "CrossBatchMemory+FastAP")]
    public string Case { get; set; } = "";

    /// <summary>Builds a seeded batch (8 of each of 32 classes) and the miner or loss outside any dispose scope.</summary>
    [GlobalSetup]
    public void Setup()
    {
        manual_seed(1);
        _embeddings = randn(BatchSize, EmbeddingSize).requires_grad_(true);
        _labels = arange(BatchSize, dtype: ScalarType.Int64).remainder(ClassCount);
        _miner = Case switch
        {
            "BatchHardMiner" => new BatchHardMiner(),
            "BatchAllMiner" => new BatchAllMiner(),
            "SemiHardMiner" => new SemiHardMiner(),
            "MultiSimilarityMiner" => new MultiSimilarityMiner(),
            "PairMarginMiner" => new PairMarginMiner(),
            _ => null,
        };
        _loss = Case switch
        {
            "SmoothAPLoss" => new SmoothAPLoss(),
            "FastAPLoss" => new FastAPLoss(),
            "CrossBatchMemory+FastAP" => new CrossBatchMemory(new FastAPLoss(), EmbeddingSize, memorySize: 1024),
            _ => null,
        };
        if (_miner is null && _loss is null) throw new ArgumentException($"Unknown case {Case}.");
    }

    /// <summary>Mines the batch, or runs the loss forward and backward; returns a number so that nothing is optimised away.</summary>
    [Benchmark]
    public double Run()
    {
        using var scope = NewDisposeScope();
        if (_miner is not null)
        {
            return _miner.Mine(_embeddings, _labels) switch
            {
                TripletTuples t => t.Count,
                PairTuples p => p.PositiveCount + p.NegativeCount,
                _ => 0,
            };
        }
        _embeddings.grad?.zero_();
        Tensor value = _loss!.call(_embeddings, _labels);
        value.backward();
        return value.item<float>();
    }

    /// <summary>Releases the tensors and the loss.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _loss?.Dispose();
        _embeddings.Dispose();
        _labels.Dispose();
    }
}
