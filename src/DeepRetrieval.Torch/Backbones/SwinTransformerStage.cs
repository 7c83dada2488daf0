using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>timm's <c>SwinTransformerStage</c>: an optional <c>downsample</c> (patch merging) first, then <c>blocks</c>, alternating unshifted and shifted windows.</summary>
internal sealed class SwinTransformerStage : nn.Module<Tensor, Tensor>
{
    private readonly PatchMerging? downsample;
    private readonly ModuleList<SwinTransformerBlock> blocks;

    /// <param name="dim">Input width.</param>
    /// <param name="outDim">Output width (2 · dim after a merge).</param>
    /// <param name="resolution">Native side of the stage's token map after the merge.</param>
    /// <param name="depth">Number of blocks.</param>
    /// <param name="downsample">Whether the stage starts with patch merging.</param>
    /// <param name="numHeads">Attention heads.</param>
    /// <param name="windowSize">Target window side.</param>
    /// <param name="mlpRatio">MLP hidden width relative to the token width.</param>
    /// <param name="dropPaths">Drop-path rate of each block.</param>
    public SwinTransformerStage(int dim, int outDim, int resolution, int depth, bool downsample, int numHeads, int windowSize, double mlpRatio, IReadOnlyList<double> dropPaths)
        : base("SwinTransformerStage")
    {
        if (downsample)
            this.downsample = new PatchMerging(dim, outDim);
        blocks = new ModuleList<SwinTransformerBlock>(Enumerable.Range(0, depth)
            .Select(i => new SwinTransformerBlock(outDim, resolution, numHeads, windowSize, shifted: i % 2 == 1, mlpRatio, dropPaths[i])).ToArray());
        RegisterComponents();
    }

    internal IReadOnlyList<SwinTransformerBlock> Blocks => blocks.ToArray();

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        Tensor x = downsample is null ? input : downsample.forward(input);
        foreach (var block in blocks)
            x = block.forward(x);
        return x.MoveToOuterDisposeScope();
    }
}
