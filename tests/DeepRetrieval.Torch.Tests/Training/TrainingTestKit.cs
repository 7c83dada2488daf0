using DeepRetrieval.Torch.Augmentation;
using DeepRetrieval.Torch.Data;
using DeepRetrieval.Torch.Distances;
using DeepRetrieval.Torch.Losses;
using DeepRetrieval.Torch.Miners;
using DeepRetrieval.Torch.Reducers;
using DeepRetrieval.Torch.Training;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Training;

/// <summary>Tiny models, data and helpers for the trainer tests.</summary>
internal static class TrainingTestKit
{
    /// <summary>n grey 8 × 8 uint8 images, labels i mod classes, drawn from a private generator.</summary>
    public static TensorImageSet Images(int n, int classes, ulong seed)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(seed);
        Tensor images = randint(0, 256, [n, 1, 8, 8], dtype: ScalarType.Byte, generator: generator);
        Tensor labels = arange(n, dtype: ScalarType.Int64).remainder(classes);
        return new TensorImageSet(images, labels, [0.5f], [0.25f]);
    }

    /// <summary>Flatten then Linear(64 → d), initialised from a private generator.</summary>
    public static nn.Module<Tensor, Tensor> LinearModel(int dimension = 4, ulong seed = 1)
    {
        var model = nn.Sequential(nn.Flatten(), nn.Linear(64, dimension));
        using var generator = new Generator(seed);
        using var noGrad = no_grad();
        foreach (var p in model.parameters()) p.copy_(randn(p.shape, generator: generator) * 0.1);
        return model;
    }

    public static Dictionary<string, Tensor> Snapshot(nn.Module module) =>
        module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());

    public static void CopyWeights(nn.Module from, nn.Module to)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) from.save(writer);
        stream.Position = 0;
        using var reader = new BinaryReader(stream);
        to.load(reader);
    }
}

/// <summary>A loss given as a function of (embeddings, labels).</summary>
internal sealed class FunctionLoss(Func<Tensor, Tensor, Tensor> function) : nn.Module<Tensor, Tensor, Tensor>(nameof(FunctionLoss))
{
    public int Calls { get; private set; }

    public override Tensor forward(Tensor embeddings, Tensor labels)
    {
        Calls++;
        return function(embeddings, labels);
    }
}

/// <summary>IProgress that records synchronously (Progress&lt;T&gt; posts to the thread pool).</summary>
internal sealed class ProgressLog : IProgress<TrainingProgress>
{
    public List<TrainingProgress> Reports { get; } = [];

    public void Report(TrainingProgress value) => Reports.Add(value);
}

/// <summary>A logger that keeps every message with its level.</summary>
internal sealed class ListLogger : ILogger
{
    public List<(LogLevel Level, string Message)> Entries { get; } = [];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Add((logLevel, formatter(state, exception)));
}

/// <summary>A mixer that keeps the images and gives fixed label sets and λ.</summary>
internal sealed class FixedLabelMixer(double lambda) : IBatchMixer
{
    public MixedBatch Apply(Tensor images, Tensor labels, Generator generator) => new(images, zeros_like(labels), ones_like(labels), lambda);
}

/// <summary>A metric loss (mean squared norm of the embeddings) that keeps what it was given.</summary>
internal sealed class RecordingMetricLoss() : MetricLoss(nameof(RecordingMetricLoss), new LpDistance(), new MeanReducer())
{
    public List<Tensor> Embeddings { get; } = [];

    public List<IndexTuples?> Tuples { get; } = [];

    protected override IEnumerable<LossTerms> ComputeTerms(LossInput input)
    {
        Embeddings.Add(input.Embeddings.detach().clone().DetachFromDisposeScope());
        Tuples.Add(input.Tuples);
        yield return new LossTerms(input.Embeddings.pow(2).sum(1), LossTermKind.Element);
    }
}

/// <summary>A linear softmax classifier loss that keeps the embeddings it was given.</summary>
internal sealed class RecordingClassifierLoss(int classes, int dimension)
    : ClassifierLoss(nameof(RecordingClassifierLoss), classes, dimension, classes, 0.1, new DotProductSimilarity(normalizeEmbeddings: false), null, null)
{
    public List<Tensor> Embeddings { get; } = [];

    protected override Tensor ComputeLogits(Tensor embeddings) => Distance.Pairwise(embeddings, WeightLike(embeddings));

    protected override (Tensor Logits, Tensor Targets) ComputeTrainingLogits(Tensor embeddings, Tensor labels)
    {
        Embeddings.Add(embeddings.detach().clone().DetachFromDisposeScope());
        return (ComputeLogits(embeddings), labels);
    }
}

/// <summary>A miner that delegates to another and keeps what it was given and what it returned.</summary>
internal sealed class RecordingMiner(IMiner inner) : IMiner
{
    public List<(Tensor Embeddings, bool HasReference, IndexTuples Tuples)> Calls { get; } = [];

    public IndexTuples Mine(Tensor embeddings, Tensor labels, Tensor? referenceEmbeddings = null, Tensor? referenceLabels = null)
    {
        IndexTuples tuples = inner.Mine(embeddings, labels, referenceEmbeddings, referenceLabels);
        Calls.Add((embeddings.detach().clone().DetachFromDisposeScope(), referenceEmbeddings is not null, tuples));
        return tuples;
    }
}
