using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DeepRetrieval.Imaging.Features;

/// <summary>
/// OpenCV's <c>cv::fastAtan2</c>: the angle of (x, y) in degrees, in [0, 360), from a 7th-order odd polynomial in
/// min(|x|,|y|) / max(|x|,|y|) (absolute error about 0.01°). SIFT's orientation histograms and descriptor bins are
/// built from these angles, so matching OpenCV's keypoint angles and descriptors to the last bin needs the same
/// approximation rather than an exact atan2.
/// </summary>
internal static class FastAtan
{
    private const float P1 = 0.9997878412794807f * (float)(180 / Math.PI);
    private const float P3 = -0.3258083974640975f * (float)(180 / Math.PI);
    private const float P5 = 0.1555786518463281f * (float)(180 / Math.PI);
    private const float P7 = -0.04432655554792128f * (float)(180 / Math.PI);
    private const float Epsilon = (float)2.220446049250313e-16; // (float)DBL_EPSILON, which OpenCV adds to the denominator

    /// <summary>The angle of one vector, exactly as OpenCV's scalar <c>fastAtan32f</c> computes it.</summary>
    public static float Degrees(float y, float x)
    {
        float ax = MathF.Abs(x), ay = MathF.Abs(y);
        float a;
        if (ax >= ay)
        {
            float c = ay / (ax + Epsilon), c2 = c * c;
            a = (((P7 * c2 + P5) * c2 + P3) * c2 + P1) * c;
        }
        else
        {
            float c = ax / (ay + Epsilon), c2 = c * c;
            a = 90f - (((P7 * c2 + P5) * c2 + P3) * c2 + P1) * c;
        }
        if (x < 0) a = 180f - a;
        if (y < 0) a = 360f - a;
        return a;
    }

    /// <summary><c>angles[i] = Degrees(y[i], x[i])</c> for every element.</summary>
    public static void Degrees(ReadOnlySpan<float> y, ReadOnlySpan<float> x, Span<float> angles)
    {
        int n = angles.Length;
        int done = SimdDispatch.Width switch
        {
            SimdWidth.Bits512 => Vectorized<Lanes512, Vector512<float>>(y, x, angles),
            SimdWidth.Bits256 => Vectorized<Lanes256, Vector256<float>>(y, x, angles),
            _ => 0,
        };
        for (int i = done; i < n; i++) angles[i] = Degrees(y[i], x[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Vectorized<TLanes, TVector>(ReadOnlySpan<float> y, ReadOnlySpan<float> x, Span<float> angles)
        where TLanes : IFloatLanes<TVector> where TVector : struct
    {
        int n = angles.Length, count = TLanes.Count, i = 0;
        ref float ry = ref MemoryMarshal.GetReference(y), rx = ref MemoryMarshal.GetReference(x), ra = ref MemoryMarshal.GetReference(angles);
        for (; i <= n - count; i += count)
            TLanes.Store(Lane<TLanes, TVector>(TLanes.Load(ref ry, i), TLanes.Load(ref rx, i)), ref ra, i);
        return i;
    }

    /// <summary>The vector form of <see cref="Degrees(float, float)"/>, lane by lane the same operations.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Lane<TLanes, TVector>(TVector y, TVector x)
        where TLanes : IFloatLanes<TVector> where TVector : struct
    {
        TVector ax = TLanes.Abs(x), ay = TLanes.Abs(y);
        TVector xMajor = TLanes.GreaterThanOrEqual(ax, ay);
        TVector c = TLanes.Divide(TLanes.Select(xMajor, ay, ax), TLanes.Add(TLanes.Select(xMajor, ax, ay), TLanes.Create(Epsilon)));
        TVector c2 = TLanes.Multiply(c, c);
        TVector p = TLanes.Add(TLanes.Multiply(TLanes.Create(P7), c2), TLanes.Create(P5));
        p = TLanes.Add(TLanes.Multiply(p, c2), TLanes.Create(P3));
        p = TLanes.Add(TLanes.Multiply(p, c2), TLanes.Create(P1));
        TVector a = TLanes.Multiply(p, c);
        a = TLanes.Select(xMajor, a, TLanes.Subtract(TLanes.Create(90f), a));
        TVector zero = TLanes.Create(0f);
        a = TLanes.Select(TLanes.LessThan(x, zero), TLanes.Subtract(TLanes.Create(180f), a), a);
        return TLanes.Select(TLanes.LessThan(y, zero), TLanes.Subtract(TLanes.Create(360f), a), a);
    }
}
