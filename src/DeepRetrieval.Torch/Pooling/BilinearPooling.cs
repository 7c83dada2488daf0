using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Pooling;

/// <summary>
/// Bilinear pooling (Lin, RoyChowdhury &amp; Maji, "Bilinear CNN models for fine-grained visual recognition", ICCV 2015):
/// the outer product of the two streams' features averaged over locations, <c>B = (1 / HW) Σ_{h,w} a_{:,h,w} b_{:,h,w}ᵀ</c>
/// (C1 × C2, flattened row-major), then the signed square root <c>z ← sign(z)·(√(|z| + ε) − √ε)</c> and L2 normalisation.
/// Called with one map it pools the map with itself (C·C outputs); <see cref="forward(Tensor, Tensor)"/> pools two maps of
/// the same batch and spatial size (C1·C2 outputs). The ε keeps the square root's gradient finite at zero (ε = 0 gives the paper's plain sign(z)·√|z|).
/// </summary>
public sealed class BilinearPooling : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    /// <param name="epsilon">Added under the signed square root.</param>
    /// <exception cref="ArgumentOutOfRangeException">epsilon is negative or not finite.</exception>
    public BilinearPooling(double epsilon = 1e-10) : base(nameof(BilinearPooling))
    {
        if (!(epsilon >= 0) || double.IsInfinity(epsilon))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Epsilon must be finite and non-negative.");
        Epsilon = epsilon;
    }

    /// <summary>Added under the signed square root.</summary>
    public double Epsilon { get; }

    /// <summary>Pools the maps with themselves.</summary>
    /// <param name="maps">N × C × H × W floating-point feature maps.</param>
    /// <returns>N × C² unit-length descriptors.</returns>
    /// <exception cref="ArgumentException">The input is not a floating-point 4-D tensor with at least one location.</exception>
    public override Tensor forward(Tensor maps) => forward(maps, maps);

    /// <summary>Pools two streams' maps together.</summary>
    /// <param name="first">N × C1 × H × W floating-point feature maps.</param>
    /// <param name="second">N × C2 × H × W floating-point feature maps.</param>
    /// <returns>N × (C1·C2) unit-length descriptors; component i·C2 + j comes from channel i of the first and j of the second.</returns>
    /// <exception cref="ArgumentException">A map is not 4-D floating point, or batch or spatial sizes differ.</exception>
    public Tensor forward(Tensor first, Tensor second)
    {
        FeatureMaps.CheckPair(first, second, nameof(first), nameof(second));
        long n = first.shape[0], locations = first.shape[2] * first.shape[3];
        Tensor a = first.reshape(n, first.shape[1], locations);
        Tensor b = second.reshape(n, second.shape[1], locations);
        Tensor outer = a.bmm(b.transpose(1, 2)).div(locations).reshape(n, -1);
        return nn.functional.normalize(FeatureMaps.SignedSquareRoot(outer, Epsilon), p: 2, dim: 1);
    }
}
