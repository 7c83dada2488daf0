using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// torchvision's <c>_DenseLayer</c>: <c>norm1</c>, ReLU, 1 × 1 <c>conv1</c> to bottleneck × growth channels, <c>norm2</c>,
/// ReLU, 3 × 3 <c>conv2</c> to growth channels (pre-activation, no bias).
/// </summary>
internal sealed class DenseLayer : nn.Module<Tensor, Tensor>
{
    private readonly BatchNorm2d norm1;
    private readonly ReLU relu1;
    private readonly Conv2d conv1;
    private readonly BatchNorm2d norm2;
    private readonly ReLU relu2;
    private readonly Conv2d conv2;

    public DenseLayer(int inputChannels, int growthRate, int bottleneckFactor) : base(nameof(DenseLayer))
    {
        norm1 = nn.BatchNorm2d(inputChannels);
        relu1 = nn.ReLU(inplace: true);
        conv1 = nn.Conv2d(inputChannels, bottleneckFactor * growthRate, 1, bias: false);
        norm2 = nn.BatchNorm2d(bottleneckFactor * growthRate);
        relu2 = nn.ReLU(inplace: true);
        conv2 = nn.Conv2d(bottleneckFactor * growthRate, growthRate, 3, padding: 1, bias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor concatenated)
    {
        using var scope = NewDisposeScope();
        var bottleneck = conv1.forward(relu1.forward(norm1.forward(concatenated)));
        return conv2.forward(relu2.forward(norm2.forward(bottleneck))).MoveToOuterDisposeScope();
    }
}
