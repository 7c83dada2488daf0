using System.Numerics.Tensors;

namespace DeepRetrieval.Pooling;

/// <summary>
/// Maximum activation of convolutions (Tolias, Sicre &amp; Jégou, ICLR 2016): each channel's largest value over all locations,
/// <c>f_c = max_{h,w} x_{c,h,w}</c>. Equals <c>DeepRetrieval.Torch.Pooling.MAC</c>.
/// </summary>
public sealed class MacPooling : IFeatureMapPooling
{
    /// <summary>The name <see cref="FeatureMapPoolings"/> knows this pooling by.</summary>
    public const string RegistryName = "MAC";

    /// <inheritdoc />
    public string Name => RegistryName;

    /// <inheritdoc />
    public string Description => RegistryName;

    /// <inheritdoc />
    public int OutputDimension(int channels) => ChannelPlanes.OneValuePerChannel(channels);

    /// <inheritdoc />
    public void Pool(ReadOnlySpan<float> maps, FeatureMapShape shape, Span<float> pooled) =>
        ChannelPlanes.Reduce(maps, shape, pooled, static plane => TensorPrimitives.Max(plane));

    internal static IFeatureMapPooling Create(PoolingArguments arguments) => new MacPooling();
}
