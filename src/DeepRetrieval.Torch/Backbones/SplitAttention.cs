using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// ResNeSt split attention (Zhang et al. 2020; timm's <c>SplitAttn</c>): a grouped 3 × 3 <c>conv</c> makes radix splits,
/// <c>bn0</c> and ReLU follow; the splits are summed, averaged over space, passed through <c>fc1</c> → <c>bn1</c> → ReLU →
/// <c>fc2</c>, and a softmax over the radix (sigmoid when radix is 1) weights the splits, which are then summed.
/// </summary>
public sealed class SplitAttention : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> conv;
    private readonly BatchNorm2d bn0;
    private readonly Conv2d fc1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d fc2;
    private readonly int _radix;
    private readonly int _groups;

    /// <summary>Creates the module.</summary>
    /// <param name="inputChannels">Channels entering the 3 × 3 convolution.</param>
    /// <param name="outputChannels">Channels leaving the module (each split has this many).</param>
    /// <param name="stride">Stride of the 3 × 3 convolution.</param>
    /// <param name="groups">Cardinality.</param>
    /// <param name="radix">Splits per group.</param>
    /// <param name="padding">Padding placement when strided.</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is not positive.</exception>
    public SplitAttention(int inputChannels, int outputChannels, int stride = 1, int groups = 1, int radix = 2, ResNetPadding padding = ResNetPadding.Symmetric)
        : base(nameof(SplitAttention))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(groups);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(radix);
        int splitChannels = outputChannels * radix;
        AttentionChannels = ChannelRounding.MakeDivisible(inputChannels * radix * 0.25, 8, 32);
        conv = ResNetConvolutions.Conv(inputChannels, splitChannels, 3, stride, padding, groups * radix);
        bn0 = nn.BatchNorm2d(splitChannels);
        fc1 = nn.Conv2d(outputChannels, AttentionChannels, 1, groups: groups);
        bn1 = nn.BatchNorm2d(AttentionChannels);
        fc2 = nn.Conv2d(AttentionChannels, splitChannels, 1, groups: groups);
        _radix = radix;
        _groups = groups;
        RegisterComponents();
    }

    /// <summary>Width of the attention bottleneck.</summary>
    public int AttentionChannels { get; }

    /// <summary>Runs the module.</summary>
    /// <param name="input">N × inputChannels × H × W.</param>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = nn.functional.relu(bn0.forward(conv.forward(input)));
        long batch = x.shape[0], channels = x.shape[1] / _radix, height = x.shape[2], width = x.shape[3];
        var splits = x.reshape(batch, _radix, channels, height, width);
        var summed = _radix > 1 ? splits.sum(1) : x;
        var gap = summed.mean([2, 3], keepdim: true);
        var logits = fc2.forward(nn.functional.relu(bn1.forward(fc1.forward(gap))));
        var weights = RadixWeights(logits);
        var output = _radix > 1
            ? (splits * weights.reshape(batch, _radix, channels, 1, 1)).sum(1)
            : x * weights.reshape(batch, -1, 1, 1);
        return output.contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The split weights from fc2's N × (radix · C) × 1 × 1 logits: softmax over the radix within each group (so the weights of
    /// one channel sum to 1 over its splits), flattened radix-major as timm's <c>RadixSoftmax</c>; sigmoid when radix is 1.
    /// </summary>
    /// <param name="logits">fc2's output.</param>
    public Tensor RadixWeights(Tensor logits)
    {
        ArgumentNullException.ThrowIfNull(logits);
        long batch = logits.shape[0];
        if (_radix == 1)
            return logits.sigmoid().reshape(batch, -1);
        return logits.view(batch, _groups, _radix, -1).transpose(1, 2).softmax(1).reshape(batch, -1);
    }
}
