using System.Numerics.Tensors;

namespace DeepRetrieval.Pooling;

/// <summary>
/// Sum-pooled convolutional features (Babenko &amp; Lempitsky, ICCV 2015), taken as the average as cirtorch does:
/// <c>f_c = (1 / HW) Σ_{h,w} x_{c,h,w}</c> (global average pooling). Equals <c>DeepRetrieval.Torch.Pooling.SPoC</c>.
/// </summary>
public sealed class SpocPooling : IFeatureMapPooling
{
    /// <summary>The name <see cref="FeatureMapPoolings"/> knows this pooling by.</summary>
    public const string RegistryName = "SPoC";

    /// <inheritdoc />
    public string Name => RegistryName;

    /// <inheritdoc />
    public string Description => RegistryName;

    /// <inheritdoc />
    public int OutputDimension(int channels) => ChannelPlanes.OneValuePerChannel(channels);

    /// <inheritdoc />
    public void Pool(ReadOnlySpan<float> maps, FeatureMapShape shape, Span<float> pooled) =>
        ChannelPlanes.Reduce(maps, shape, pooled, static plane => TensorPrimitives.Sum(plane) / plane.Length);

    internal static IFeatureMapPooling Create(PoolingArguments arguments) => new SpocPooling();
}
