using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Pooling;

/// <summary>
/// Sum-pooled convolutional features (Babenko &amp; Lempitsky, "Aggregating local deep features for image retrieval", ICCV 2015),
/// taken as the average as in cirtorch: <c>f_c = (1 / HW) Σ_{h,w} x_{c,h,w}</c>. N × C × H × W in, N × C out.
/// The average differs from the sum only by a constant, which the usual L2 normalisation afterwards removes.
/// </summary>
public sealed class SPoC : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    public SPoC() : base(nameof(SPoC)) { }

    /// <summary>Pools each channel to its mean over locations.</summary>
    /// <param name="maps">N × C × H × W floating-point feature maps.</param>
    /// <returns>N × C descriptors (not normalised).</returns>
    /// <exception cref="ArgumentException">The input is not a floating-point 4-D tensor with at least one location.</exception>
    public override Tensor forward(Tensor maps)
    {
        FeatureMaps.Check(maps, nameof(maps));
        return maps.mean([2, 3]);
    }
}
