using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Pooling;

/// <summary>
/// Maximum activation of convolutions (Tolias et al., "Particular object retrieval with integral max-pooling of CNN activations",
/// ICLR 2016): each channel's largest value over all locations, <c>f_c = max_{h,w} x_{c,h,w}</c>. N × C × H × W in, N × C out.
/// </summary>
public sealed class MAC : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    public MAC() : base(nameof(MAC)) { }

    /// <summary>Pools each channel to its maximum.</summary>
    /// <param name="maps">N × C × H × W floating-point feature maps.</param>
    /// <returns>N × C descriptors (not normalised).</returns>
    /// <exception cref="ArgumentException">The input is not a floating-point 4-D tensor with at least one location.</exception>
    public override Tensor forward(Tensor maps)
    {
        FeatureMaps.Check(maps, nameof(maps));
        return maps.amax([2, 3]);
    }
}
