using DeepRetrieval.Torch.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// Vision Transformer (Dosovitskiy et al., "An Image is Worth 16x16 Words", ICLR 2021) with timm's module layout, so timm
/// state dicts of <c>vit_*_patch16_224</c> load unchanged (minus the classifier <c>head.*</c>): <c>cls_token</c>,
/// <c>pos_embed</c>, <c>patch_embed.proj</c>, <c>blocks.N.norm1 / attn.qkv / attn.proj / norm2 / mlp.fc1 / mlp.fc2</c>,
/// <c>norm</c>; pre-norm blocks with GELU and LayerNorm ε = 1e-6, drop path rising linearly to the given rate.
/// <see cref="forward"/> returns the patch tokens after the final norm as an N × D × H/p × W/p map (so any pooling layer
/// follows); <see cref="ForwardClassToken"/> returns the class-token embedding, the usual ViT retrieval descriptor. Inputs
/// of any size that is a multiple of the patch size are accepted: the position embedding is resampled bicubically (with
/// antialiasing) from the native grid, as timm does with <c>dynamic_img_size=True</c>. The blocks form four stages named
/// after their last block (<c>blocks.2</c>, <c>blocks.5</c>, <c>blocks.8</c>, <c>blocks.11</c> at depth 12), the first also
/// holding the patch embedding, class token and position embedding, the last also the final norm; every stage has stride p.
/// </summary>
public sealed class VisionTransformer : Backbone
{
    private readonly PatchEmbedding patch_embed;
    private readonly ModuleList<VisionTransformerBlock> blocks;
    private readonly LayerNorm norm;
    private readonly int _gridSize;

    /// <summary>Creates a ViT with timm's initialisation (truncated normal 0.02 for linear layers and the position embedding).</summary>
    /// <param name="embedDim">Token width D (192 tiny, 384 small, 768 base).</param>
    /// <param name="depth">Number of transformer blocks (12 for tiny, small and base).</param>
    /// <param name="numHeads">Attention heads per block; must divide <paramref name="embedDim"/>.</param>
    /// <param name="patchSize">Side p of the square patches (16).</param>
    /// <param name="imageSize">Native square input size; the position embedding has (imageSize / p)² + 1 entries.</param>
    /// <param name="inputChannels">Channels of the input images.</param>
    /// <param name="mlpRatio">Hidden width of the MLP relative to D (4).</param>
    /// <param name="dropPathRate">Stochastic-depth rate of the last block; earlier blocks get linearly less (timm).</param>
    /// <exception cref="ArgumentException">A size is not positive, the image size is not a multiple of the patch size, or the heads do not divide D.</exception>
    /// <exception cref="ArgumentOutOfRangeException">dropPathRate is outside [0, 1).</exception>
    public VisionTransformer(int embedDim = 192, int depth = 12, int numHeads = 3, int patchSize = 16, int imageSize = 224,
        int inputChannels = 3, double mlpRatio = 4.0, double dropPathRate = 0.0) : base(nameof(VisionTransformer))
    {
        if (embedDim <= 0 || depth <= 0 || numHeads <= 0 || patchSize <= 0 || inputChannels <= 0 || !(mlpRatio > 0))
            throw new ArgumentException("Widths, depth, heads, patch size, channels and MLP ratio must be positive.");
        if (imageSize <= 0 || imageSize % patchSize != 0)
            throw new ArgumentException($"The image size {imageSize} must be a positive multiple of the patch size {patchSize}.", nameof(imageSize));
        if (embedDim % numHeads != 0)
            throw new ArgumentException($"The embedding width {embedDim} must be a multiple of the head count {numHeads}.", nameof(numHeads));
        if (!(dropPathRate >= 0 && dropPathRate < 1))
            throw new ArgumentOutOfRangeException(nameof(dropPathRate), dropPathRate, "The drop-path rate must lie in [0, 1).");
        EmbedDim = embedDim;
        Depth = depth;
        NumHeads = numHeads;
        PatchSize = patchSize;
        ImageSize = imageSize;
        InputChannels = inputChannels;
        _gridSize = imageSize / patchSize;

        patch_embed = new PatchEmbedding(inputChannels, embedDim, patchSize, normalize: false);
        var clsToken = empty([1, 1, embedDim], ScalarType.Float32).DetachFromDisposeScope();
        using (no_grad())
            nn.init.normal_(clsToken, 0, 1e-6);
        register_parameter("cls_token", new Parameter(clsToken, requires_grad: true));
        register_parameter("pos_embed", TransformerInit.TruncatedNormal([1, _gridSize * _gridSize + 1, embedDim]));
        blocks = new ModuleList<VisionTransformerBlock>(Enumerable.Range(0, depth)
            .Select(i => new VisionTransformerBlock(embedDim, numHeads, mlpRatio, DropRate(dropPathRate, i, depth), NormEps)).ToArray());
        norm = nn.LayerNorm(embedDim, NormEps);
        RegisterComponents();

        int stageCount = Math.Min(4, depth);
        int first = 0;
        for (int s = 0; s < stageCount; s++)
        {
            int end = (s + 1) * depth / stageCount;
            var modules = new List<nn.Module<Tensor, Tensor>>();
            if (s == 0)
                modules.Add(new TokenEmbedding(this));
            modules.AddRange(Enumerable.Range(first, end - first).Select(i => (nn.Module<Tensor, Tensor>)blocks[i]));
            if (s == stageCount - 1)
                modules.Add(norm);
            AddStage(new BackboneStage($"blocks.{end - 1}", embedDim, patchSize), modules.ToArray());
            first = end;
        }
    }

    /// <summary>LayerNorm epsilon of timm's ViT.</summary>
    public const double NormEps = 1e-6;

    /// <summary>Token width D.</summary>
    public int EmbedDim { get; }

    /// <summary>Number of transformer blocks.</summary>
    public int Depth { get; }

    /// <summary>Attention heads per block.</summary>
    public int NumHeads { get; }

    /// <summary>Side of the square patches, which is also the stride of every output map.</summary>
    public int PatchSize { get; }

    /// <summary>Native input size; other multiples of <see cref="PatchSize"/> resample the position embedding.</summary>
    public int ImageSize { get; }

    /// <summary>Channels of the input images.</summary>
    public int InputChannels { get; }

    /// <summary>The learned class token (1 × 1 × D), timm's <c>cls_token</c>.</summary>
    public Parameter ClassToken => get_parameter("cls_token")!;

    /// <summary>The learned position embedding for the native grid, class token first (1 × (1 + g²) × D), timm's <c>pos_embed</c>.</summary>
    public Parameter PositionEmbedding => get_parameter("pos_embed")!;

    /// <summary>The patch tokens after the final norm as a map.</summary>
    /// <param name="images">N × C × H × W images, H and W multiples of <see cref="PatchSize"/>.</param>
    /// <returns>N × D × H/p × W/p.</returns>
    /// <exception cref="ArgumentException">The images have the wrong rank, type, channel count or size.</exception>
    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        Tensor tokens = base.forward(images);
        return TokensToMap(tokens, images).MoveToOuterDisposeScope();
    }

    /// <summary>All tokens after the final norm, class token first.</summary>
    /// <param name="images">N × C × H × W images, H and W multiples of <see cref="PatchSize"/>.</param>
    /// <returns>N × (1 + HW/p²) × D.</returns>
    /// <exception cref="ArgumentException">The images have the wrong rank, type, channel count or size.</exception>
    public Tensor ForwardTokens(Tensor images) => base.forward(images);

    /// <summary>The class-token embedding after the final norm (timm's <c>pre_logits</c> with <c>global_pool='token'</c>).</summary>
    /// <param name="images">N × C × H × W images, H and W multiples of <see cref="PatchSize"/>.</param>
    /// <returns>N × D.</returns>
    /// <exception cref="ArgumentException">The images have the wrong rank, type, channel count or size.</exception>
    public Tensor ForwardClassToken(Tensor images)
    {
        using var scope = NewDisposeScope();
        return base.forward(images)[.., 0].contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Outputs of the requested stages as N × D × H/p × W/p maps of their patch tokens (the class token dropped); only the
    /// last stage includes the final norm.
    /// </summary>
    /// <param name="images">N × C × H × W images, H and W multiples of <see cref="PatchSize"/>.</param>
    /// <param name="stageNames">Names from <see cref="Backbone.Stages"/>.</param>
    /// <exception cref="ArgumentException">Bad images, no name, or an unknown stage name.</exception>
    public override IReadOnlyList<Tensor> ForwardStages(Tensor images, params string[] stageNames)
    {
        using var scope = NewDisposeScope();
        var tokens = base.ForwardStages(images, stageNames);
        return tokens.Select(t => TokensToMap(t, images).MoveToOuterDisposeScope()).ToArray();
    }

    /// <summary>
    /// The position embedding for a grid of <paramref name="gridHeight"/> × <paramref name="gridWidth"/> patches: the stored one
    /// when the grid is the native square, otherwise the patch part resampled bicubically with antialiasing (timm's
    /// <c>resample_abs_pos_embed</c>) and the class-token entry kept.
    /// </summary>
    /// <param name="gridHeight">Patch rows.</param>
    /// <param name="gridWidth">Patch columns.</param>
    /// <returns>1 × (1 + gridHeight·gridWidth) × D.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A grid side is not positive.</exception>
    public Tensor ResamplePositionEmbedding(int gridHeight, int gridWidth)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(gridHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(gridWidth);
        Tensor posEmbed = PositionEmbedding;
        // timm's test: same token count and a square new grid means the native grid, returned as is.
        if (gridHeight == gridWidth && gridHeight * gridWidth == _gridSize * _gridSize)
            return posEmbed;
        using var scope = NewDisposeScope();
        var prefix = posEmbed[.., ..1];
        var grid = posEmbed[.., 1..].to(ScalarType.Float32).reshape(1, _gridSize, _gridSize, EmbedDim).permute(0, 3, 1, 2);
        var resized = nn.functional.interpolate(grid, [gridHeight, gridWidth], mode: InterpolationMode.Bicubic, align_corners: false, antialias: true)
            .permute(0, 2, 3, 1).reshape(1, gridHeight * gridWidth, EmbedDim).to(posEmbed.dtype);
        return cat([prefix, resized], 1).MoveToOuterDisposeScope();
    }

    internal static IEnumerable<(BackboneInfo, Func<BackboneOptions, Backbone>)> Registrations()
    {
        // timm's augreg weights (the default tags of these names) normalise with mean 0.5 and std 0.5.
        IReadOnlyList<float> half = [0.5f, 0.5f, 0.5f];
        yield return (new BackboneInfo("vit_tiny_patch16_224", 192, 16, 224, half, half) { Pretrained = PretrainedConfig.Timm("vit_tiny_patch16_224.augreg_in21k_ft_in1k") },
            o => Create(o, 192, 3));
        yield return (new BackboneInfo("vit_small_patch16_224", 384, 16, 224, half, half) { Pretrained = PretrainedConfig.Timm("vit_small_patch16_224.augreg_in21k_ft_in1k") },
            o => Create(o, 384, 6));
        yield return (new BackboneInfo("vit_base_patch16_224", 768, 16, 224, half, half) { Pretrained = PretrainedConfig.Timm("vit_base_patch16_224.augreg2_in21k_ft_in1k") },
            o => Create(o, 768, 12));
    }

    private static VisionTransformer Create(BackboneOptions options, int embedDim, int numHeads) =>
        new(embedDim, 12, numHeads, inputChannels: options.InputChannels, dropPathRate: options.DropPathRate);

    /// <summary>timm's per-block schedule: <c>linspace(0, rate, depth)</c>.</summary>
    internal static double DropRate(double rate, int index, int count) => count == 1 ? 0 : rate * index / (count - 1);

    /// <inheritdoc/>
    protected override int? ExpectedInputChannels => InputChannels;

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">An image side is not a positive multiple of <see cref="PatchSize"/>.</exception>
    protected override void CheckInputSize(Tensor images)
    {
        long height = images.shape[2], width = images.shape[3];
        if (height < PatchSize || width < PatchSize || height % PatchSize != 0 || width % PatchSize != 0)
            throw new ArgumentException($"Image sides must be positive multiples of the patch size {PatchSize}; got {height} × {width}.", nameof(images));
    }

    // The patch grid of the (already checked) images: the class token is dropped and the rest laid out as a map.
    private Tensor TokensToMap(Tensor tokens, Tensor images) =>
        tokens[.., 1..].transpose(1, 2).reshape(tokens.shape[0], EmbedDim, images.shape[2] / PatchSize, images.shape[3] / PatchSize);

    private Tensor Embed(Tensor images)
    {
        using var scope = NewDisposeScope();
        Tensor patches = patch_embed.forward(images);
        long n = patches.shape[0], h = patches.shape[1], w = patches.shape[2];
        Tensor tokens = cat([ClassToken.expand(n, -1, -1), patches.reshape(n, h * w, EmbedDim)], 1);
        return (tokens + ResamplePositionEmbedding((int)h, (int)w)).MoveToOuterDisposeScope();
    }

    private IEnumerable<Parameter> EmbeddingParameters() => patch_embed.parameters().Append(ClassToken).Append(PositionEmbedding);

    // The first stage's module: it runs the embedding and reports the top-level cls_token and pos_embed with the patch
    // embedding's parameters, so freezing the first stage freezes them. It is not registered as a child, so the state-dict
    // names stay timm's, and it reads the owner's parameters on every call, so it follows .to(device).
    private sealed class TokenEmbedding(VisionTransformer owner) : nn.Module<Tensor, Tensor>("TokenEmbedding")
    {
        public override Tensor forward(Tensor images) => owner.Embed(images);

        public override IEnumerable<Parameter> parameters(bool recurse = true) => owner.EmbeddingParameters();

        public override IEnumerable<(string name, Parameter parameter)> named_parameters(bool recurse = true) =>
            owner.named_parameters().Where(p => p.name is "cls_token" or "pos_embed" || p.name.StartsWith("patch_embed.", StringComparison.Ordinal));
    }
}
