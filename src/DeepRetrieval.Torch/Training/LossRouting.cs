using DeepRetrieval.Torch.Losses;
using DeepRetrieval.Torch.Miners;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Training;

/// <summary>
/// Decides, once per trainer, which feature each part of the loss receives and where its mined tuples come from, through
/// a <see cref="WeightedLossSum"/> and a <see cref="CrossBatchMemory"/> alike:
/// <list type="bullet">
/// <item>classification losses (every <see cref="ClassifierLoss"/>: ArcFace, CosFace, normalised softmax, ...) receive the
/// feature after the BN neck and no tuples, as in Luo et al.'s BNNeck and PML's trainers;</item>
/// <item>every other <see cref="MetricLoss"/> receives the feature before the neck and the trainer's miner's tuples for it;</item>
/// <item>a <see cref="CrossBatchMemory"/> receives the feature before the neck and mines against its memory with its own miner,
/// or the trainer's when it has none;</item>
/// <item>any other module receives the feature before the neck.</item>
/// </list>
/// Without a BN neck both features are the same tensor.
/// </summary>
internal sealed class LossRouting
{
    private readonly nn.Module<Tensor, Tensor, Tensor> _loss;
    private readonly IMiner? _miner;

    /// <exception cref="ArgumentException">A cross-batch memory has its own miner and the trainer another one.</exception>
    public LossRouting(nn.Module<Tensor, Tensor, Tensor> loss, IMiner? miner)
    {
        _loss = loss;
        _miner = miner;
        foreach (var part in Parts(loss))
        {
            if (part is not CrossBatchMemory memory)
                continue;
            HasMemory = true;
            if (memory.Miner is not null && miner is not null && !ReferenceEquals(memory.Miner, miner))
                throw new ArgumentException("The cross-batch memory has its own miner and the trainer options name another; give the miner in one place.", nameof(miner));
        }
    }

    /// <summary>Whether a part of the loss is a cross-batch memory, which enqueues the batch on every call.</summary>
    public bool HasMemory { get; }

    /// <summary>The loss of a batch given both features and the labels.</summary>
    /// <param name="beforeNeck">The feature before the BN neck (the metric feature).</param>
    /// <param name="afterNeck">The feature after the BN neck (the classification feature).</param>
    /// <param name="labels">The labels.</param>
    public Tensor Compute(Tensor beforeNeck, Tensor afterNeck, Tensor labels) => Evaluate(_loss, beforeNeck, afterNeck, labels);

    private Tensor Evaluate(nn.Module<Tensor, Tensor, Tensor> loss, Tensor beforeNeck, Tensor afterNeck, Tensor labels)
    {
        switch (loss)
        {
            case WeightedLossSum sum:
                Tensor total = Evaluate(sum.Losses[0], beforeNeck, afterNeck, labels) * sum.Weights[0];
                for (int i = 1; i < sum.Losses.Count; i++)
                    total = total + Evaluate(sum.Losses[i], beforeNeck, afterNeck, labels) * sum.Weights[i];
                return total;
            case ClassifierLoss classifier:
                return classifier.forward(afterNeck, labels);
            case CrossBatchMemory memory:
                return memory.forward(beforeNeck, labels, memory.Miner ?? _miner);
            case MetricLoss metric:
                return metric.forward(beforeNeck, labels, _miner?.Mine(beforeNeck, labels));
            default:
                return loss.forward(beforeNeck, labels);
        }
    }

    private static IEnumerable<nn.Module<Tensor, Tensor, Tensor>> Parts(nn.Module<Tensor, Tensor, Tensor> loss) =>
        loss is WeightedLossSum sum ? [sum, .. sum.Losses.SelectMany(Parts)] : [loss];
}
