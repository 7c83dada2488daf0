using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>timm's <c>Mlp</c>: <c>fc1</c>, GELU, <c>fc2</c> applied to the last dimension.</summary>
internal sealed class TransformerMlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc1;
    private readonly GELU act;
    private readonly Linear fc2;

    public TransformerMlp(int dim, int hiddenDim) : base("Mlp")
    {
        fc1 = TransformerInit.Linear(dim, hiddenDim);
        act = nn.GELU();
        fc2 = TransformerInit.Linear(hiddenDim, dim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return fc2.forward(act.forward(fc1.forward(input))).MoveToOuterDisposeScope();
    }
}
