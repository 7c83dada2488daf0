using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// timm's Swin <c>PatchMerging</c>: each 2 × 2 group of tokens is concatenated (order (0,0), (1,0), (0,1), (1,1) as
/// (row, column), the original Swin order), normalised by <c>norm</c> and projected by <c>reduction</c> (no bias) to twice the
/// width. N × H × W × C in, N × H/2 × W/2 × 2C out; odd sides are zero-padded.
/// </summary>
internal sealed class PatchMerging : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm norm;
    private readonly Linear reduction;

    public PatchMerging(int dim, int outDim) : base(nameof(PatchMerging))
    {
        norm = nn.LayerNorm(4 * dim);
        reduction = TransformerInit.Linear(4 * dim, outDim, bias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        Tensor x = input;
        long n = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3];
        if (h % 2 != 0 || w % 2 != 0)
        {
            x = nn.functional.pad(x, [0, 0, 0, w % 2, 0, h % 2]);
            h += h % 2;
            w += w % 2;
        }
        x = x.reshape(n, h / 2, 2, w / 2, 2, c).permute(0, 1, 3, 4, 2, 5).flatten(3);
        return reduction.forward(norm.forward(x)).MoveToOuterDisposeScope();
    }
}
