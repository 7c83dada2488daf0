namespace DeepRetrieval.Pooling;

/// <summary>
/// Global pooling of convolutional feature maps into one descriptor per image (GeM, MAC, SPoC, R-MAC), computed over plain float
/// spans so that any backend (ONNX Runtime, a native library, a file of saved maps) can use it. Each pooling gives the same values
/// as the TorchSharp layer of the same name in <c>DeepRetrieval.Torch.Pooling</c>.
/// </summary>
/// <remarks>Implementations are immutable and thread-safe.</remarks>
public interface IFeatureMapPooling
{
    /// <summary>The short name the registry knows the pooling by, e.g. <c>GeM</c> (see <see cref="FeatureMapPoolings"/>).</summary>
    string Name { get; }

    /// <summary>
    /// The pooling with every parameter, in the form <see cref="FeatureMapPoolings.Parse"/> reads back, e.g. <c>GeM(p=3,eps=1E-06)</c>.
    /// Equal descriptions mean equal results, so the text can be stored next to vectors to tell how they were made.
    /// </summary>
    string Description { get; }

    /// <summary>Descriptor length for maps of <paramref name="channels"/> channels (C for every built-in pooling).</summary>
    /// <param name="channels">C.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="channels"/> is not positive, or does not fit the pooling's parameters.</exception>
    int OutputDimension(int channels);

    /// <summary>Pools a batch of feature maps.</summary>
    /// <param name="maps">N maps of <paramref name="shape"/>, one after another (an NCHW tensor's data).</param>
    /// <param name="shape">The shape of one map.</param>
    /// <param name="pooled">Receives N rows of <see cref="OutputDimension"/> values.</param>
    /// <exception cref="ArgumentException">A size is not positive, the maps are not whole items, the output has the wrong length,
    /// or the channel count does not fit the pooling's parameters.</exception>
    void Pool(ReadOnlySpan<float> maps, FeatureMapShape shape, Span<float> pooled);
}
