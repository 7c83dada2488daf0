using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// timm's ViT <c>Attention</c>: one <c>qkv</c> projection to 3 × heads × head_dim, scaled dot-product attention
/// <c>softmax(QKᵀ / √d + bias) V</c> per head, then <c>proj</c>. B × N × C tokens in and out.
/// </summary>
internal sealed class MultiHeadSelfAttention : nn.Module<Tensor, Tensor>
{
    private readonly Linear qkv;
    private readonly Linear proj;

    public MultiHeadSelfAttention(int dim, int numHeads) : base("Attention")
    {
        if (numHeads <= 0 || dim % numHeads != 0)
            throw new ArgumentException($"The embedding width {dim} must be a positive multiple of the head count {numHeads}.", nameof(numHeads));
        NumHeads = numHeads;
        qkv = TransformerInit.Linear(dim, 3 * dim);
        proj = TransformerInit.Linear(dim, dim);
        RegisterComponents();
    }

    public int NumHeads { get; }

    public override Tensor forward(Tensor tokens) => Attend(qkv, proj, NumHeads, tokens, null);

    /// <summary>
    /// The attention shared by ViT and Swin windows. <paramref name="bias"/> is added to the logits QKᵀ/√d before the
    /// softmax (relative position bias and shifted-window mask), broadcastable to B × heads × N × N.
    /// </summary>
    internal static Tensor Attend(Linear qkv, Linear proj, int numHeads, Tensor tokens, Tensor? bias)
    {
        using var scope = NewDisposeScope();
        long b = tokens.shape[0], n = tokens.shape[1], c = tokens.shape[2];
        var parts = qkv.forward(tokens).reshape(b, n, 3, numHeads, c / numHeads).permute(2, 0, 3, 1, 4).unbind(0);
        Tensor attended = nn.functional.scaled_dot_product_attention(parts[0], parts[1], parts[2], bias);
        return proj.forward(attended.transpose(1, 2).reshape(b, n, c)).MoveToOuterDisposeScope();
    }
}
