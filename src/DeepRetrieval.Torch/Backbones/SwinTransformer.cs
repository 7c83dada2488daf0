using DeepRetrieval.Torch.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// Swin Transformer (Liu et al., "Swin Transformer: Hierarchical Vision Transformer using Shifted Windows", ICCV 2021) with
/// timm's current module layout, so timm state dicts of <c>swin_tiny_patch4_window7_224</c> load unchanged (minus the
/// classifier <c>head.*</c>): <c>patch_embed.proj / norm</c>, <c>layers.N.downsample.norm / reduction</c> (N ≥ 1),
/// <c>layers.N.blocks.M.norm1 / attn.qkv / attn.proj / attn.relative_position_bias_table / norm2 / mlp.fc1 / mlp.fc2</c>,
/// <c>norm</c>. Window attention with a relative position bias, odd blocks shifted by half a window with the attention
/// mask, patch merging between stages. Stages <c>layers.0</c> … <c>layers.3</c> have strides 4, 8, 16, 32 and widths
/// D, 2D, 4D, 8D; their outputs come out channels-first (N × C × h × w), the last one after the final <c>norm</c>, so
/// <see cref="forward"/> gives N × 768 × 7 × 7 for Swin-T at 224. Window and shift of each stage are fixed by the native
/// image size as in timm (a stage map no larger than the window is a single unshifted window); other input sizes that are
/// multiples of the total stride work, the map being padded to whole windows and the mask computed for that size
/// (timm's <c>strict_img_size=False</c>).
/// </summary>
public sealed class SwinTransformer : Backbone
{
    private readonly PatchEmbedding patch_embed;
    private readonly ModuleList<SwinTransformerStage> layers;
    private readonly LayerNorm norm;

    /// <summary>Creates a Swin Transformer with timm's initialisation (truncated normal 0.02 for linear layers and bias tables).</summary>
    /// <param name="embedDim">Width D of the first stage (96 for Swin-T); stage i has D · 2^i.</param>
    /// <param name="depths">Blocks per stage; null for Swin-T's 2, 2, 6, 2.</param>
    /// <param name="numHeads">Heads per stage; null for Swin-T's 3, 6, 12, 24.</param>
    /// <param name="windowSize">Window side (7).</param>
    /// <param name="patchSize">Patch side of the embedding (4).</param>
    /// <param name="imageSize">Native square input size (224); fixes each stage's window and shift.</param>
    /// <param name="inputChannels">Channels of the input images.</param>
    /// <param name="mlpRatio">MLP hidden width relative to the token width (4).</param>
    /// <param name="dropPathRate">Stochastic-depth rate of the last block; earlier blocks get linearly less (timm).</param>
    /// <exception cref="ArgumentException">Sizes are not positive, depths and heads differ in length, heads do not divide a stage width, or the image size is not a multiple of the total stride.</exception>
    /// <exception cref="ArgumentOutOfRangeException">dropPathRate is outside [0, 1).</exception>
    public SwinTransformer(int embedDim = 96, IReadOnlyList<int>? depths = null, IReadOnlyList<int>? numHeads = null, int windowSize = 7,
        int patchSize = 4, int imageSize = 224, int inputChannels = 3, double mlpRatio = 4.0, double dropPathRate = 0.0)
        : base(nameof(SwinTransformer))
    {
        depths ??= [2, 2, 6, 2];
        numHeads ??= [3, 6, 12, 24];
        if (embedDim <= 0 || windowSize <= 0 || patchSize <= 0 || inputChannels <= 0 || !(mlpRatio > 0))
            throw new ArgumentException("Width, window, patch size, channels and MLP ratio must be positive.");
        if (depths.Count == 0 || depths.Count != numHeads.Count || depths.Any(d => d <= 0) || numHeads.Any(h => h <= 0))
            throw new ArgumentException("Depths and heads need one positive value per stage, in lists of equal length.", nameof(depths));
        if (!(dropPathRate >= 0 && dropPathRate < 1))
            throw new ArgumentOutOfRangeException(nameof(dropPathRate), dropPathRate, "The drop-path rate must lie in [0, 1).");
        int totalStride = patchSize << (depths.Count - 1);
        if (imageSize <= 0 || imageSize % totalStride != 0)
            throw new ArgumentException($"The image size {imageSize} must be a positive multiple of the total stride {totalStride}.", nameof(imageSize));
        for (int i = 0; i < depths.Count; i++)
        {
            if ((embedDim << i) % numHeads[i] != 0)
                throw new ArgumentException($"Stage {i} width {embedDim << i} is not a multiple of its head count {numHeads[i]}.", nameof(numHeads));
        }
        EmbedDim = embedDim;
        Depths = depths.ToArray();
        NumHeads = numHeads.ToArray();
        WindowSize = windowSize;
        PatchSize = patchSize;
        ImageSize = imageSize;
        InputChannels = inputChannels;

        patch_embed = new PatchEmbedding(inputChannels, embedDim, patchSize, normalize: true);
        int total = depths.Sum(), blockIndex = 0, grid = imageSize / patchSize;
        var stages = new SwinTransformerStage[depths.Count];
        for (int i = 0; i < depths.Count; i++)
        {
            var rates = Enumerable.Range(blockIndex, depths[i]).Select(b => VisionTransformer.DropRate(dropPathRate, b, total)).ToArray();
            blockIndex += depths[i];
            stages[i] = new SwinTransformerStage(i == 0 ? embedDim : embedDim << (i - 1), embedDim << i, grid >> i, depths[i], downsample: i > 0,
                numHeads[i], windowSize, mlpRatio, rates);
        }
        layers = new ModuleList<SwinTransformerStage>(stages);
        norm = nn.LayerNorm(embedDim << (depths.Count - 1));
        RegisterComponents();

        for (int i = 0; i < stages.Length; i++)
        {
            var modules = new List<nn.Module<Tensor, Tensor>>();
            if (i == 0)
                modules.Add(patch_embed);
            modules.Add(stages[i]);
            if (i == stages.Length - 1)
                modules.Add(norm);
            AddStage(new BackboneStage($"layers.{i}", embedDim << i, patchSize << i), modules.ToArray());
        }
    }

    /// <summary>Width of the first stage.</summary>
    public int EmbedDim { get; }

    /// <summary>Blocks per stage.</summary>
    public IReadOnlyList<int> Depths { get; }

    /// <summary>Attention heads per stage.</summary>
    public IReadOnlyList<int> NumHeads { get; }

    /// <summary>Target window side.</summary>
    public int WindowSize { get; }

    /// <summary>Patch side of the embedding (the stride of the first stage).</summary>
    public int PatchSize { get; }

    /// <summary>Native input size.</summary>
    public int ImageSize { get; }

    /// <summary>Channels of the input images.</summary>
    public int InputChannels { get; }

    internal IReadOnlyList<SwinTransformerStage> Layers => layers.ToArray();

    /// <summary>The last stage's tokens after the final norm, channels first.</summary>
    /// <param name="images">N × C × H × W images, H and W multiples of the total stride (32 for Swin-T).</param>
    /// <returns>N × 8D × H/32 × W/32 for four stages.</returns>
    /// <exception cref="ArgumentException">The images have the wrong rank, type, channel count or size.</exception>
    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        return base.forward(images).permute(0, 3, 1, 2).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Outputs of the requested stages, channels first; only the last stage includes the final norm.</summary>
    /// <param name="images">N × C × H × W images, H and W multiples of the total stride.</param>
    /// <param name="stageNames">Names from <see cref="Backbone.Stages"/> (<c>layers.0</c> … <c>layers.3</c>).</param>
    /// <exception cref="ArgumentException">Bad images, no name, or an unknown stage name.</exception>
    public override IReadOnlyList<Tensor> ForwardStages(Tensor images, params string[] stageNames)
    {
        using var scope = NewDisposeScope();
        return base.ForwardStages(images, stageNames).Select(t => t.permute(0, 3, 1, 2).contiguous().MoveToOuterDisposeScope()).ToArray();
    }

    internal static IEnumerable<(BackboneInfo, Func<BackboneOptions, Backbone>)> Registrations()
    {
        yield return (new BackboneInfo("swin_tiny_patch4_window7_224", 768, 32, 224, BackboneInfo.ImageNetMean, BackboneInfo.ImageNetStd)
            {
                Pretrained = PretrainedConfig.Timm("swin_tiny_patch4_window7_224.ms_in1k"),
            },
            o => new SwinTransformer(inputChannels: o.InputChannels, dropPathRate: o.DropPathRate));
    }

    /// <inheritdoc/>
    protected override int? ExpectedInputChannels => InputChannels;

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">An image side is not a positive multiple of the total stride.</exception>
    protected override void CheckInputSize(Tensor images)
    {
        int stride = OutputStride;
        long height = images.shape[2], width = images.shape[3];
        if (height < stride || width < stride || height % stride != 0 || width % stride != 0)
            throw new ArgumentException($"Image sides must be positive multiples of the total stride {stride}; got {height} × {width}.", nameof(images));
    }
}
