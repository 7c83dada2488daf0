using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// A small VGG-style network for 28 × 28 grey images (Fashion-MNIST, MNIST): conv-BN-ReLU 32, 32, max-pool, 64, 64, max-pool,
/// 128, all 3 × 3 with padding 1 and no convolution bias; a 28 × 28 image gives a 128 × 7 × 7 map. It is the network of the
/// repository's PyTorch + pytorch-metric-learning reference run, with the same module layout (a <c>features</c> sequence whose
/// blocks are <c>conv</c>, <c>bn</c>, <c>relu</c>), so that run's state dict loads after renaming <c>f.</c> to <c>features.</c>.
/// Registered as <c>small_cnn</c>; stages <c>block1</c> (32 channels, stride 1), <c>block2</c> (64, stride 2), <c>block3</c> (128, stride 4).
/// </summary>
public sealed class SmallCnn : Backbone
{
    private readonly Sequential features;

    /// <summary>Creates the network with PyTorch's default initialisation.</summary>
    /// <param name="inputChannels">Channels of the input images (1 for grey).</param>
    /// <param name="widths">Output channels of the five convolutions; the reference uses 32, 32, 64, 64, 128.</param>
    /// <exception cref="ArgumentException">widths does not have five positive values.</exception>
    /// <exception cref="ArgumentOutOfRangeException">inputChannels is not positive.</exception>
    public SmallCnn(int inputChannels = 1, IReadOnlyList<int>? widths = null) : base(nameof(SmallCnn))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputChannels);
        widths ??= [32, 32, 64, 64, 128];
        if (widths.Count != 5 || widths.Any(w => w <= 0))
            throw new ArgumentException("SmallCnn needs five positive convolution widths.", nameof(widths));
        var block1 = Block(inputChannels, widths[0]);
        var block2 = Block(widths[0], widths[1]);
        var pool1 = nn.MaxPool2d(2);
        var block3 = Block(widths[1], widths[2]);
        var block4 = Block(widths[2], widths[3]);
        var pool2 = nn.MaxPool2d(2);
        var block5 = Block(widths[3], widths[4]);
        features = nn.Sequential(block1, block2, pool1, block3, block4, pool2, block5);
        RegisterComponents();
        AddStage(new BackboneStage("block1", widths[1], 1), block1, block2);
        AddStage(new BackboneStage("block2", widths[3], 2), pool1, block3, block4);
        AddStage(new BackboneStage("block3", widths[4], 4), pool2, block5);
    }

    internal static IEnumerable<(BackboneInfo, Func<BackboneOptions, Backbone>)> Registrations()
    {
        yield return (new BackboneInfo("small_cnn", 128, 4, 28, [0.2860f], [0.3530f]), o => new SmallCnn(o.InputChannels == 3 ? 1 : o.InputChannels));
    }

    private static Sequential Block(int input, int output) => nn.Sequential(
        ("conv", nn.Conv2d(input, output, 3, padding: 1, bias: false)),
        ("bn", nn.BatchNorm2d(output)),
        ("relu", nn.ReLU(inplace: true)));
}
