using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// timm's <c>DepthwiseSeparableConv</c>, EfficientNet's first stage (expansion 1): depthwise <c>conv_dw</c>, <c>bn1</c> +
/// SiLU, <c>se</c>, pointwise <c>conv_pw</c>, <c>bn2</c> without activation, residual when the shape allows.
/// </summary>
internal sealed class DepthwiseSeparableConv : EfficientNetBlock
{
    private readonly Conv2d conv_dw;
    private readonly BatchNorm2d bn1;
    private readonly SqueezeExcitation se;
    private readonly Conv2d conv_pw;
    private readonly BatchNorm2d bn2;

    public DepthwiseSeparableConv(int input, int output, int kernel, int stride, double dropPathRate)
        : base(nameof(DepthwiseSeparableConv), stride == 1 && input == output, dropPathRate)
    {
        conv_dw = Conv(input, input, kernel, stride, groups: input);
        bn1 = nn.BatchNorm2d(input);
        se = SqueezeExcitation.ForEfficientNet(input, (int)Math.Round(input * 0.25, MidpointRounding.ToEven));
        conv_pw = Conv(input, output, 1);
        bn2 = nn.BatchNorm2d(output);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = nn.functional.silu(bn1.forward(conv_dw.forward(x)));
        y = bn2.forward(conv_pw.forward(se.forward(y)));
        return Residual(y, x).MoveToOuterDisposeScope();
    }
}
