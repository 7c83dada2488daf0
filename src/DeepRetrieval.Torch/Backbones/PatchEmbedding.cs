using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// timm's <c>PatchEmbed</c> with NHWC output: a <c>proj</c> convolution with kernel and stride equal to the patch size, then
/// (Swin only) a LayerNorm <c>norm</c> over channels. N × C × H × W images in, N × H/p × W/p × D tokens out.
/// </summary>
internal sealed class PatchEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d proj;
    private readonly LayerNorm? norm;

    public PatchEmbedding(int inputChannels, int embedDim, int patchSize, bool normalize) : base("PatchEmbed")
    {
        InputChannels = inputChannels;
        PatchSize = patchSize;
        proj = nn.Conv2d(inputChannels, embedDim, patchSize, stride: patchSize);
        if (normalize)
            norm = nn.LayerNorm(embedDim);
        RegisterComponents();
    }

    public int InputChannels { get; }

    public int PatchSize { get; }

    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        Tensor x = proj.forward(images).permute(0, 2, 3, 1);
        if (norm is not null)
            x = norm.forward(x);
        return x.MoveToOuterDisposeScope();
    }
}
