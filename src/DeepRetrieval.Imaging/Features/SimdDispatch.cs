using System.Runtime.Intrinsics;

namespace DeepRetrieval.Imaging.Features;

/// <summary>Which <see cref="IFloatLanes{TVector}"/> implementation this machine runs: the widest accelerated one.</summary>
internal enum SimdWidth
{
    Scalar,
    Bits256,
    Bits512,
}

/// <summary>Chooses the SIMD width once per process.</summary>
internal static class SimdDispatch
{
    public static readonly SimdWidth Width =
        Vector512.IsHardwareAccelerated ? SimdWidth.Bits512 :
        Vector256.IsHardwareAccelerated ? SimdWidth.Bits256 :
        SimdWidth.Scalar;
}
