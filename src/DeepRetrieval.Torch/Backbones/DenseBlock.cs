using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// torchvision's <c>_DenseBlock</c>: layers <c>denselayer1</c> ... <c>denselayerN</c>, each fed the concatenation of the block
/// input and every earlier layer's output; the block returns the concatenation of all of them.
/// </summary>
internal sealed class DenseBlock : nn.Module<Tensor, Tensor>
{
    private readonly DenseLayer[] _layers;

    public DenseBlock(int layerCount, int inputChannels, int growthRate, int bottleneckFactor) : base(nameof(DenseBlock))
    {
        _layers = new DenseLayer[layerCount];
        for (int i = 0; i < layerCount; i++)
        {
            _layers[i] = new DenseLayer(inputChannels + i * growthRate, growthRate, bottleneckFactor);
            register_module($"denselayer{i + 1}", _layers[i]);
        }
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var maps = new List<Tensor>(_layers.Length + 1) { x };
        foreach (var layer in _layers)
            maps.Add(layer.forward(cat(maps, 1)));
        return cat(maps, 1).MoveToOuterDisposeScope();
    }
}
