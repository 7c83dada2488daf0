using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>timm's pre-norm ViT <c>Block</c>: x + attn(norm1(x)), then x + mlp(norm2(x)), each branch with drop path.</summary>
internal sealed class VisionTransformerBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm norm1;
    private readonly MultiHeadSelfAttention attn;
    private readonly DropPath drop_path1;
    private readonly LayerNorm norm2;
    private readonly TransformerMlp mlp;
    private readonly DropPath drop_path2;

    public VisionTransformerBlock(int dim, int numHeads, double mlpRatio, double dropPath, double normEps) : base("Block")
    {
        norm1 = nn.LayerNorm(dim, normEps);
        attn = new MultiHeadSelfAttention(dim, numHeads);
        drop_path1 = new DropPath(dropPath);
        norm2 = nn.LayerNorm(dim, normEps);
        mlp = new TransformerMlp(dim, (int)(dim * mlpRatio));
        drop_path2 = new DropPath(dropPath);
        RegisterComponents();
    }

    public override Tensor forward(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        Tensor x = tokens + drop_path1.forward(attn.forward(norm1.forward(tokens)));
        x = x + drop_path2.forward(mlp.forward(norm2.forward(x)));
        return x.MoveToOuterDisposeScope();
    }
}
