using BenchmarkDotNet.Attributes;
using DeepRetrieval.Torch.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Benchmarks.Losses;

/// <summary>
/// Forward plus backward of each softmax-family, imbalance and sampled loss at batch 256, embedding 128 and 10,000 classes
/// (float32, CPU), the loss's class weights included in the backward pass. The logit losses run on a linear classifier head
/// (<see cref="LinearClassifierLoss"/>) so that every case does the same 256 × 128 × 10,000 product.
/// </summary>
public class SoftmaxLossBenchmarks
{
    private const int BatchSize = 256, EmbeddingSize = 128, ClassCount = 10_000;

    private ClassifierLoss _loss = null!;
    private Tensor _embeddings = null!;
    private Tensor _labels = null!;

    /// <summary>Which loss is measured.</summary>
    [Params("NormalizedSoftmax", "SphereFace", "LargeMarginSoftmax", "CosFace", "ArcFace", "SubCenterArcFace", "CircleSoftmax", "Linear", "LabelSmoothing",
        "Focal", "ClassBalanced", "Ghmc", "Ohem", "SampledSoftmax")]
    public string Loss { get; set; } = "";

    /// <summary>Builds the loss and a seeded batch outside any dispose scope.</summary>
    [GlobalSetup]
    public void Setup()
    {
        manual_seed(1);
        _loss = Loss switch
        {
            "NormalizedSoftmax" => new NormalizedSoftmaxLoss(ClassCount, EmbeddingSize),
            "SphereFace" => new SphereFaceLoss(ClassCount, EmbeddingSize),
            "LargeMarginSoftmax" => new LargeMarginSoftmaxLoss(ClassCount, EmbeddingSize),
            "CosFace" => new CosFaceLoss(ClassCount, EmbeddingSize),
            "ArcFace" => new ArcFaceLoss(ClassCount, EmbeddingSize),
            "SubCenterArcFace" => new SubCenterArcFaceLoss(ClassCount, EmbeddingSize),
            "CircleSoftmax" => new CircleSoftmaxLoss(ClassCount, EmbeddingSize),
            "Linear" => new LinearClassifierLoss(ClassCount, EmbeddingSize),
            "LabelSmoothing" => new LinearClassifierLoss(ClassCount, EmbeddingSize, new LabelSmoothingCrossEntropyLoss(0.1)),
            "Focal" => new LinearClassifierLoss(ClassCount, EmbeddingSize, new FocalLoss()),
            "ClassBalanced" => new LinearClassifierLoss(ClassCount, EmbeddingSize,
                new ClassBalancedLoss(Enumerable.Range(0, ClassCount).Select(c => 1L + c % 50).ToArray(), gamma: 2)),
            "Ghmc" => new LinearClassifierLoss(ClassCount, EmbeddingSize, new GhmcLoss()),
            "Ohem" => new LinearClassifierLoss(ClassCount, EmbeddingSize, new OhemLoss(keepRatio: 0.5)),
            "SampledSoftmax" => new SampledSoftmaxLoss(ClassCount, EmbeddingSize, sampledNegatives: 1024, seed: 1),
            _ => throw new ArgumentException($"Unknown loss {Loss}."),
        };
        _embeddings = randn(BatchSize, EmbeddingSize).requires_grad_(true);
        _labels = randint(0, ClassCount, [BatchSize], dtype: ScalarType.Int64);
    }

    /// <summary>One forward and backward pass; returns the loss value so that nothing is optimised away.</summary>
    [Benchmark]
    public float ForwardBackward()
    {
        using var scope = NewDisposeScope();
        _loss.zero_grad();
        _embeddings.grad?.zero_();
        Tensor value = _loss.call(_embeddings, _labels);
        value.backward();
        return value.item<float>();
    }

    /// <summary>Releases the tensors and the loss.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _loss.Dispose();
        _embeddings.Dispose();
        _labels.Dispose();
    }
}
