using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// timm's <c>SwinTransformerBlock</c> on N × H × W × C tokens: x + attn(norm1(x)) in (shifted) windows, then
/// x + mlp(norm2(x)). A shifted block rolls the map by −shift, pads to whole windows, attends with the mask that keeps
/// tokens from attending across the roll boundary, and rolls back.
/// </summary>
internal sealed class SwinTransformerBlock : nn.Module<Tensor, Tensor>
{
    /// <summary>The logit added between tokens of different regions of a shifted window (timm's value).</summary>
    public const float MaskedLogit = -100f;

    private readonly LayerNorm norm1;
    private readonly WindowAttention attn;
    private readonly DropPath drop_path1;
    private readonly LayerNorm norm2;
    private readonly TransformerMlp mlp;
    private readonly DropPath drop_path2;
    private readonly int _nativeResolution;

    /// <param name="dim">Token width.</param>
    /// <param name="resolution">The native side of the token map; it fixes the window and shift as in timm.</param>
    /// <param name="numHeads">Attention heads.</param>
    /// <param name="windowSize">Target window side.</param>
    /// <param name="shifted">Whether this block shifts its windows (odd blocks of a stage).</param>
    /// <param name="mlpRatio">MLP hidden width relative to dim.</param>
    /// <param name="dropPath">Drop-path rate of both branches.</param>
    public SwinTransformerBlock(int dim, int resolution, int numHeads, int windowSize, bool shifted, double mlpRatio, double dropPath)
        : base(nameof(SwinTransformerBlock))
    {
        // timm's _calc_window_shift: a map no larger than the window is one unshifted window.
        WindowSize = Math.Min(resolution, windowSize);
        ShiftSize = shifted && resolution > WindowSize ? WindowSize / 2 : 0;
        _nativeResolution = resolution;
        norm1 = nn.LayerNorm(dim);
        attn = new WindowAttention(dim, numHeads, WindowSize);
        drop_path1 = new DropPath(dropPath);
        norm2 = nn.LayerNorm(dim);
        mlp = new TransformerMlp(dim, (int)(dim * mlpRatio));
        drop_path2 = new DropPath(dropPath);
        RegisterComponents();
        if (ShiftSize > 0)
        {
            int padded = PaddedSide(resolution);
            register_buffer("attn_mask", ShiftedWindowMask(padded, padded, WindowSize, ShiftSize).DetachFromDisposeScope(), persistent: false);
        }
    }

    public int WindowSize { get; }

    public int ShiftSize { get; }

    internal WindowAttention Attention => attn;

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        long n = input.shape[0], h = input.shape[1], w = input.shape[2], c = input.shape[3];
        Tensor x = norm1.forward(input);
        if (ShiftSize > 0)
            x = x.roll([-ShiftSize, -ShiftSize], [1, 2]);
        int paddedHeight = PaddedSide((int)h), paddedWidth = PaddedSide((int)w);
        if (paddedHeight != h || paddedWidth != w)
            x = nn.functional.pad(x, [0, 0, 0, paddedWidth - w, 0, paddedHeight - h]);
        Tensor windows = Partition(x, WindowSize).view(-1, (long)WindowSize * WindowSize, c);
        Tensor attended = attn.Forward(windows, ShiftSize > 0 ? Mask(paddedHeight, paddedWidth, input.device) : null);
        x = Reverse(attended.view(-1, WindowSize, WindowSize, c), WindowSize, paddedHeight, paddedWidth);
        if (paddedHeight != h || paddedWidth != w)
            x = x[.., ..(int)h, ..(int)w];
        if (ShiftSize > 0)
            x = x.roll([ShiftSize, ShiftSize], [1, 2]);
        x = input + drop_path1.forward(x);
        x = x.reshape(n, h * w, c);
        x = x + drop_path2.forward(mlp.forward(norm2.forward(x)));
        return x.reshape(n, h, w, c).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The additive mask of shifted windows on an <paramref name="height"/> × <paramref name="width"/> map (whole windows):
    /// after the roll, the last <c>window</c> rows and columns hold up to three regions that were not neighbours in the image
    /// (timm labels them by the slices [0, −w), [−w, −s), [−s, end)); tokens of different regions get
    /// <see cref="MaskedLogit"/>. nW × w² × w², windows in row-major order.
    /// </summary>
    internal static Tensor ShiftedWindowMask(int height, int width, int window, int shift)
    {
        static int Region(int position, int side, int window, int shift) =>
            position < side - window ? 0 : position < side - shift ? 1 : 2;
        int windowsDown = height / window, windowsAcross = width / window, area = window * window;
        var mask = new float[windowsDown * windowsAcross * area * area];
        var labels = new int[area];
        for (int wr = 0; wr < windowsDown; wr++)
        {
            for (int wc = 0; wc < windowsAcross; wc++)
            {
                for (int i = 0; i < area; i++)
                    labels[i] = 3 * Region(wr * window + i / window, height, window, shift) + Region(wc * window + i % window, width, window, shift);
                int offset = (wr * windowsAcross + wc) * area * area;
                for (int i = 0; i < area; i++)
                {
                    for (int j = 0; j < area; j++)
                        mask[offset + i * area + j] = labels[i] == labels[j] ? 0f : MaskedLogit;
                }
            }
        }
        return tensor(mask, [windowsDown * windowsAcross, area, area]);
    }

    private int PaddedSide(int side) => (side + WindowSize - 1) / WindowSize * WindowSize;

    private Tensor Mask(int height, int width, Device device)
    {
        int native = PaddedSide(_nativeResolution);
        if (height == native && width == native)
            return get_buffer("attn_mask")!;
        return ShiftedWindowMask(height, width, WindowSize, ShiftSize).to(device);
    }

    /// <summary>N × H × W × C to (N · nW) × w × w × C, windows of one image consecutive in row-major order.</summary>
    internal static Tensor Partition(Tensor x, int window)
    {
        long n = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3];
        return x.view(n, h / window, window, w / window, window, c).permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, window, window, c);
    }

    /// <summary>The inverse of <see cref="Partition"/>.</summary>
    internal static Tensor Reverse(Tensor windows, int window, int height, int width)
    {
        long c = windows.shape[^1];
        return windows.view(-1, height / window, width / window, window, window, c).permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, height, width, c);
    }
}
