using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// timm's <c>InvertedResidual</c> (MBConv): pointwise expansion <c>conv_pw</c>, <c>bn1</c> + SiLU, depthwise <c>conv_dw</c>,
/// <c>bn2</c> + SiLU, <c>se</c>, pointwise projection <c>conv_pwl</c>, <c>bn3</c> without activation, residual with drop
/// path when stride is 1 and the channel count is kept.
/// </summary>
internal sealed class InvertedResidual : EfficientNetBlock
{
    private readonly Conv2d conv_pw;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv_dw;
    private readonly BatchNorm2d bn2;
    private readonly SqueezeExcitation se;
    private readonly Conv2d conv_pwl;
    private readonly BatchNorm2d bn3;

    public InvertedResidual(int input, int output, int kernel, int stride, int expansion, double dropPathRate)
        : base(nameof(InvertedResidual), stride == 1 && input == output, dropPathRate)
    {
        int mid = ChannelRounding.MakeDivisible(input * (double)expansion);
        conv_pw = Conv(input, mid, 1);
        bn1 = nn.BatchNorm2d(mid);
        conv_dw = Conv(mid, mid, kernel, stride, groups: mid);
        bn2 = nn.BatchNorm2d(mid);
        // timm's builder divides the 0.25 ratio by the expansion, so the squeeze width follows the block input, not mid.
        se = SqueezeExcitation.ForEfficientNet(mid, (int)Math.Round(mid * (0.25 / expansion), MidpointRounding.ToEven));
        conv_pwl = Conv(mid, output, 1);
        bn3 = nn.BatchNorm2d(output);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = nn.functional.silu(bn1.forward(conv_pw.forward(x)));
        y = nn.functional.silu(bn2.forward(conv_dw.forward(y)));
        y = bn3.forward(conv_pwl.forward(se.forward(y)));
        return Residual(y, x).MoveToOuterDisposeScope();
    }
}
