using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// timm's Swin <c>WindowAttention</c>: multi-head self-attention inside a window of w × w tokens with a learned relative
/// position bias (<c>relative_position_bias_table</c>, (2w − 1)² × heads, looked up through the non-persistent buffer
/// <c>relative_position_index</c>), plus an optional additive mask per window for shifted windows.
/// </summary>
internal sealed class WindowAttention : nn.Module<Tensor, Tensor>
{
    private readonly Linear qkv;
    private readonly Linear proj;

    public WindowAttention(int dim, int numHeads, int windowSize) : base(nameof(WindowAttention))
    {
        if (numHeads <= 0 || dim % numHeads != 0)
            throw new ArgumentException($"The embedding width {dim} must be a positive multiple of the head count {numHeads}.", nameof(numHeads));
        NumHeads = numHeads;
        WindowSize = windowSize;
        register_parameter("relative_position_bias_table", TransformerInit.TruncatedNormal([(2 * windowSize - 1) * (2 * windowSize - 1), numHeads]));
        register_buffer("relative_position_index", RelativePositionIndex(windowSize).DetachFromDisposeScope(), persistent: false);
        qkv = TransformerInit.Linear(dim, 3 * dim);
        proj = TransformerInit.Linear(dim, dim);
        RegisterComponents();
    }

    public int NumHeads { get; }

    public int WindowSize { get; }

    public Parameter RelativePositionBiasTable => get_parameter("relative_position_bias_table")!;

    public Tensor RelativePositionIndexBuffer => get_buffer("relative_position_index")!;

    public override Tensor forward(Tensor windows) => Forward(windows, null);

    /// <summary>Attention within each window.</summary>
    /// <param name="windows">(N · nW) × w² × C tokens, windows of one image consecutive.</param>
    /// <param name="mask">nW × w² × w² additive mask (0 or −100), or null.</param>
    public Tensor Forward(Tensor windows, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        long area = (long)WindowSize * WindowSize;
        Tensor bias = RelativePositionBias();
        if (mask is not null)
        {
            long windowCount = mask.shape[0];
            long batches = windows.shape[0] / windowCount;
            bias = (bias.unsqueeze(0) + mask.to(bias.dtype).view(1, windowCount, 1, area, area))
                .expand(batches, windowCount, NumHeads, area, area).reshape(batches * windowCount, NumHeads, area, area);
        }
        return MultiHeadSelfAttention.Attend(qkv, proj, NumHeads, windows, bias).MoveToOuterDisposeScope();
    }

    /// <summary>The bias added to the attention logits: 1 × heads × w² × w².</summary>
    public Tensor RelativePositionBias()
    {
        long area = (long)WindowSize * WindowSize;
        return RelativePositionBiasTable[RelativePositionIndexBuffer.view(-1)].view(area, area, -1).permute(2, 0, 1).unsqueeze(0);
    }

    /// <summary>
    /// Index into the bias table for each pair of positions in a w × w window (row-major): for positions (r₁, c₁), (r₂, c₂)
    /// it is <c>(r₁ − r₂ + w − 1)(2w − 1) + (c₁ − c₂ + w − 1)</c> (timm's <c>get_relative_position_index</c>).
    /// </summary>
    internal static Tensor RelativePositionIndex(int windowSize)
    {
        int area = windowSize * windowSize;
        var index = new long[area * area];
        for (int i = 0; i < area; i++)
        {
            for (int j = 0; j < area; j++)
            {
                int dr = i / windowSize - j / windowSize + windowSize - 1;
                int dc = i % windowSize - j % windowSize + windowSize - 1;
                index[i * area + j] = dr * (2 * windowSize - 1) + dc;
            }
        }
        return tensor(index, [area, area]);
    }
}
