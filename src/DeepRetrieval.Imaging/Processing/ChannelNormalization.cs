namespace DeepRetrieval.Imaging.Processing;

/// <summary>
/// How 8-bit pixels become a network's float input: channel order, scale, then per-channel mean and standard
/// deviation, <c>value = (pixel × Scale − Mean[c]) / Std[c]</c> in float32 exactly as torchvision's
/// <c>ToTensor()</c> + <c>Normalize(mean, std)</c> compute it (pixel / 255 first when <see cref="Scale"/> is 1/255).
/// </summary>
public sealed record ChannelNormalization
{
    /// <summary>Creates a normalisation.</summary>
    /// <param name="order">Channel order of the planes: <see cref="PixelFormat.Rgb24"/>, <see cref="PixelFormat.Bgr24"/> or <see cref="PixelFormat.Gray8"/>.</param>
    /// <param name="scale">Factor applied to the 0–255 pixel first: 1/255f for 0–1 inputs, 1 for 0–255 inputs.</param>
    /// <param name="mean">Per-plane means (in the scaled unit), one per plane.</param>
    /// <param name="std">Per-plane standard deviations, one per plane, all positive.</param>
    /// <exception cref="ArgumentException">The order is not planar, or the arrays do not match its plane count.</exception>
    public ChannelNormalization(PixelFormat order, float scale, float[] mean, float[] std)
    {
        if (order == PixelFormat.Rgba32)
            throw new ArgumentException("Planes are RGB, BGR or grey; alpha is never fed to a network.", nameof(order));
        int planes = order.ChannelCount();
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Length != planes || std.Length != planes)
            throw new ArgumentException($"{order} has {planes} plane(s); mean and std need {planes} values each.", nameof(mean));
        if (!float.IsFinite(scale) || scale <= 0)
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "The scale must be positive and finite.");
        foreach (float s in std)
            if (!(s > 0) || !float.IsFinite(s))
                throw new ArgumentOutOfRangeException(nameof(std), s, "Standard deviations must be positive and finite.");
        Order = order;
        Scale = scale;
        Mean = (float[])mean.Clone();
        Std = (float[])std.Clone();
    }

    /// <summary>ImageNet statistics on RGB in [0, 1] (torchvision and timm models): mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225).</summary>
    public static ChannelNormalization ImageNet { get; } = new(PixelFormat.Rgb24, 1f / 255, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    /// <summary>OpenAI CLIP's statistics on RGB in [0, 1]: mean (0.48145466, 0.4578275, 0.40821073), std (0.26862954, 0.26130258, 0.27577711).</summary>
    public static ChannelNormalization Clip { get; } = new(PixelFormat.Rgb24, 1f / 255,
        [0.48145466f, 0.4578275f, 0.40821073f], [0.26862954f, 0.26130258f, 0.27577711f]);

    /// <summary>RGB in [0, 1] without mean or std: torchvision's <c>ToTensor()</c> alone.</summary>
    public static ChannelNormalization UnitRgb { get; } = new(PixelFormat.Rgb24, 1f / 255, [0f, 0f, 0f], [1f, 1f, 1f]);

    /// <summary>
    /// BGR 0–255, unnormalised: the input of ML.NET's ResNet-18 (<c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c>),
    /// whose <c>ResNetPreprocess.onnx</c> subtracts its own 224 × 224 mean image; also Caffe-style models before their
    /// mean subtraction.
    /// </summary>
    public static ChannelNormalization MlNetResNet18 { get; } = new(PixelFormat.Bgr24, 1f, [0f, 0f, 0f], [1f, 1f, 1f]);

    /// <summary>Caffe / Detectron BGR 0–255 minus the ImageNet BGR means (103.53, 116.28, 123.675), std 1.</summary>
    public static ChannelNormalization CaffeBgr { get; } = new(PixelFormat.Bgr24, 1f, [103.53f, 116.28f, 123.675f], [1f, 1f, 1f]);

    /// <summary>Channel order of the planes.</summary>
    public PixelFormat Order { get; }

    /// <summary>Factor applied to the 0–255 pixel before the mean is subtracted.</summary>
    public float Scale { get; }

    /// <summary>Per-plane means, in the scaled unit.</summary>
    public IReadOnlyList<float> Mean { get; }

    /// <summary>Per-plane standard deviations.</summary>
    public IReadOnlyList<float> Std { get; }

    /// <summary>Number of planes (3, or 1 for grey).</summary>
    public int Planes => Order.ChannelCount();

    /// <summary>The 256 float values each 8-bit value becomes in plane <paramref name="plane"/>.</summary>
    /// <param name="plane">Plane index.</param>
    public float[] LookupTable(int plane)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(plane);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(plane, Planes);
        var table = new float[256];
        float mean = Mean[plane], std = Std[plane];
        bool unit = Scale == 1f / 255;
        for (int v = 0; v < 256; v++)
        {
            // torchvision divides by 255 (float32) rather than multiplying by 1/255; the two differ in the last bit.
            float scaled = unit ? v / 255f : v * Scale;
            table[v] = (scaled - mean) / std;
        }
        return table;
    }
}
