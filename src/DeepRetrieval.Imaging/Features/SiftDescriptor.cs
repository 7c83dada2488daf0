using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DeepRetrieval.Imaging.Features;

/// <summary>
/// OpenCV's <c>calcSIFTDescriptor</c>: gradients in a window around the keypoint, rotated to its orientation, are
/// accumulated with trilinear interpolation into 4 × 4 spatial bins of width 3σ × 8 orientation bins, weighted by a
/// Gaussian of σ = half the window; the 128 values are L2-normalised, clamped at 0.2, renormalised, scaled by 512 and
/// rounded with saturation to 0 … 255.
/// </summary>
internal static class SiftDescriptor
{
    public const int Width = 4;         // SIFT_DESCR_WIDTH: spatial bins per side
    public const int Bins = 8;          // SIFT_DESCR_HIST_BINS: orientation bins
    public const int Length = Width * Width * Bins;
    private const float ScaleFactor = 3f;        // SIFT_DESCR_SCL_FCTR: spatial bin width in σ
    private const float MagnitudeThreshold = 0.2f; // SIFT_DESCR_MAG_THR
    private const float ByteFactor = 512f;        // SIFT_INT_DESCR_FCTR

    /// <summary>
    /// Writes the 128 components for a keypoint at <paramref name="x"/>, <paramref name="y"/> (pixels of this pyramid level)
    /// of <paramref name="image"/>, the Gaussian image of the keypoint's octave and layer. <paramref name="orientation"/> is in
    /// degrees as OpenCV passes it (360 − keypoint angle); <paramref name="scale"/> is σ in this level's pixels (OpenCV's
    /// <c>size · 0.5</c> after unpacking).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Compute(float[] image, int width, int height, float x, float y, float orientation, float scale,
        Span<float> destination, OrientationScratch scratch)
    {
        const int d = Width, n = Bins;
        int px = (int)MathF.Round(x, MidpointRounding.ToEven), py = (int)MathF.Round(y, MidpointRounding.ToEven);
        float cos = MathF.Cos(orientation * (float)(Math.PI / 180));
        float sin = MathF.Sin(orientation * (float)(Math.PI / 180));
        float binsPerDegree = n / 360f;
        float expScale = -1f / (d * d * 0.5f);
        float histogramWidth = ScaleFactor * scale;
        int radius = (int)MathF.Round(histogramWidth * 1.4142135623730951f * (d + 1) * 0.5f, MidpointRounding.ToEven);
        // OpenCV clips the radius to the image diagonal so that huge keypoints cannot ask for huge buffers.
        radius = Math.Min(radius, (int)Math.Sqrt((double)width * width + (double)height * height));
        cos /= histogramWidth;
        sin /= histogramWidth;

        // Only samples with both rotated bin coordinates in (−1, d) contribute; in each row they form one run of columns
        // (each test is monotone in the column), found from the bounds in double and trimmed by OpenCV's float test.
        int length = Math.Max(1, (radius * 2 + 1) * (radius * 2 + 1));
        scratch.Ensure(length + 64);
        int k = SimdDispatch.Width switch
        {
            SimdWidth.Bits512 => Collect<Lanes512, Vector512<float>>(image, width, height, px, py, radius, cos, sin, expScale, scratch),
            SimdWidth.Bits256 => Collect<Lanes256, Vector256<float>>(image, width, height, px, py, radius, cos, sin, expScale, scratch),
            _ => Collect<LanesScalar, float>(image, width, height, px, py, radius, cos, sin, expScale, scratch),
        };

        Span<float> gx = scratch.X.AsSpan(0, k), gy = scratch.Y.AsSpan(0, k), w = scratch.Weight.AsSpan(0, k), angles = scratch.Angle.AsSpan(0, k);
        FastAtan.Degrees(gy, gx, angles);
        TensorPrimitives.Multiply(gx, gx, gx);
        TensorPrimitives.MultiplyAdd(gy, gy, gx, gx);
        TensorPrimitives.Sqrt(gx, gx); // magnitudes
        TensorPrimitives.Exp(w, w);

        const int histogramLength = (d + 2) * (d + 2) * (n + 2);
        Span<float> histogram = stackalloc float[histogramLength];
        histogram.Clear();
        switch (SimdDispatch.Width)
        {
            case SimdWidth.Bits512:
                Accumulate<Lanes512, Vector512<float>>(scratch, k, orientation, binsPerDegree, histogram);
                break;
            case SimdWidth.Bits256:
                Accumulate<Lanes256, Vector256<float>>(scratch, k, orientation, binsPerDegree, histogram);
                break;
            default:
                Accumulate<LanesScalar, float>(scratch, k, orientation, binsPerDegree, histogram);
                break;
        }

        // Orientation bins are circular: fold the two overflow bins back, and copy out the 4 × 4 × 8 interior.
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                int index = ((i + 1) * (d + 2) + (j + 1)) * (n + 2);
                histogram[index] += histogram[index + n];
                histogram[index + 1] += histogram[index + n + 1];
                for (int o = 0; o < n; o++)
                    destination[(i * d + j) * n + o] = histogram[index + o];
            }
        }

        float norm = 0;
        for (int i = 0; i < Length; i++) norm += destination[i] * destination[i];
        float threshold = MathF.Sqrt(norm) * MagnitudeThreshold;
        norm = 0;
        for (int i = 0; i < Length; i++)
        {
            float value = MathF.Min(destination[i], threshold);
            destination[i] = value;
            norm += value * value;
        }
        norm = ByteFactor / MathF.Max(MathF.Sqrt(norm), 1.1920929e-07f);
        for (int i = 0; i < Length; i++)
            destination[i] = Math.Clamp(MathF.Round(destination[i] * norm, MidpointRounding.ToEven), 0f, 255f);
    }

    // Gathers, for every sample whose rotated bin coordinates lie in (−1, d), its gradient (x into X, y into Y), bin
    // coordinates and Gaussian exponent, row by row as OpenCV does; returns the sample count.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Collect<TLanes, TVector>(float[] image, int width, int height, int px, int py, int radius, float cos, float sin,
        float expScale, OrientationScratch scratch)
        where TLanes : IFloatLanes<TVector> where TVector : struct
    {
        const float half = Width / 2 - 0.5f;
        int count = TLanes.Count;
        ref float src = ref MemoryMarshal.GetArrayDataReference(image);
        ref float xs = ref MemoryMarshal.GetArrayDataReference(scratch.X);
        ref float ys = ref MemoryMarshal.GetArrayDataReference(scratch.Y);
        ref float rows = ref MemoryMarshal.GetArrayDataReference(scratch.RowBin);
        ref float columns = ref MemoryMarshal.GetArrayDataReference(scratch.ColumnBin);
        ref float weights = ref MemoryMarshal.GetArrayDataReference(scratch.Weight);
        TVector cosV = TLanes.Create(cos), sinV = TLanes.Create(sin), halfV = TLanes.Create(half), scaleV = TLanes.Create(expScale);
        int k = 0;
        int rowLow = Math.Max(-radius, 1 - py), rowHigh = Math.Min(radius, height - 2 - py);
        for (int i = rowLow; i <= rowHigh; i++)
        {
            (int first, int last) = ColumnRun(i, cos, sin, radius);
            first = Math.Max(first, 1 - px);
            last = Math.Min(last, width - 2 - px);
            while (first <= last && !Inside(i, first, cos, sin)) first++;
            while (last >= first && !Inside(i, last, cos, sin)) last--;
            int run = last - first + 1;
            if (run <= 0) continue;
            float iSin = i * sin, iCos = i * cos;
            TVector iSinV = TLanes.Create(iSin), iCosV = TLanes.Create(iCos);
            nint rowStart = (nint)(py + i) * width + px;
            if (run >= count)
            {
                for (int offset = 0; offset < run; offset += count)
                {
                    if (offset > run - count) offset = run - count;
                    int j = first + offset;
                    TVector jv = TLanes.Sequence(j);
                    TVector cRot = TLanes.Subtract(TLanes.Multiply(jv, cosV), iSinV);
                    TVector rRot = TLanes.Add(TLanes.Multiply(jv, sinV), iCosV);
                    nint at = rowStart + j;
                    nint to = k + offset;
                    TLanes.Store(TLanes.Subtract(TLanes.Load(ref src, at + 1), TLanes.Load(ref src, at - 1)), ref xs, to);
                    TLanes.Store(TLanes.Subtract(TLanes.Load(ref src, at - width), TLanes.Load(ref src, at + width)), ref ys, to);
                    TLanes.Store(TLanes.Add(rRot, halfV), ref rows, to);
                    TLanes.Store(TLanes.Add(cRot, halfV), ref columns, to);
                    TLanes.Store(TLanes.Multiply(TLanes.Add(TLanes.Multiply(cRot, cRot), TLanes.Multiply(rRot, rRot)), scaleV), ref weights, to);
                }
            }
            else
            {
                for (int offset = 0; offset < run; offset++)
                {
                    int j = first + offset;
                    float cRot = j * cos - iSin, rRot = j * sin + iCos;
                    nint at = rowStart + j;
                    nint to = k + offset;
                    Unsafe.Add(ref xs, to) = Unsafe.Add(ref src, at + 1) - Unsafe.Add(ref src, at - 1);
                    Unsafe.Add(ref ys, to) = Unsafe.Add(ref src, at - width) - Unsafe.Add(ref src, at + width);
                    Unsafe.Add(ref rows, to) = rRot + half;
                    Unsafe.Add(ref columns, to) = cRot + half;
                    Unsafe.Add(ref weights, to) = (cRot * cRot + rRot * rRot) * expScale;
                }
            }
            k += run;
        }
        return k;
    }

    // OpenCV's per-sample test: both rotated bin coordinates in (−1, d), in float.
    private static bool Inside(int i, int j, float cos, float sin)
    {
        const float half = Width / 2 - 0.5f;
        float rbin = j * sin + i * cos + half, cbin = j * cos - i * sin + half;
        return rbin > -1 && rbin < Width && cbin > -1 && cbin < Width;
    }

    // Trilinear interpolation of every sample into the (d + 2) × (d + 2) × (n + 2) histogram: the eight weights and the
    // base index are computed a register of samples at a time, then added one sample at a time (samples of a register
    // may share bins).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Accumulate<TLanes, TVector>(OrientationScratch scratch, int samples, float orientation, float binsPerDegree, Span<float> histogram)
        where TLanes : IFloatLanes<TVector> where TVector : struct
    {
        const int d = Width, n = Bins;
        int count = TLanes.Count;
        ref float rows = ref MemoryMarshal.GetArrayDataReference(scratch.RowBin);
        ref float columns = ref MemoryMarshal.GetArrayDataReference(scratch.ColumnBin);
        ref float angles = ref MemoryMarshal.GetArrayDataReference(scratch.Angle);
        ref float magnitudes = ref MemoryMarshal.GetArrayDataReference(scratch.X);
        ref float weights = ref MemoryMarshal.GetArrayDataReference(scratch.Weight);
        ref float h = ref MemoryMarshal.GetReference(histogram);
        Span<float> parts = stackalloc float[8 * 16];
        Span<int> indices = stackalloc int[16];
        ref float part = ref MemoryMarshal.GetReference(parts);
        ref int index = ref MemoryMarshal.GetReference(indices);
        TVector orientationV = TLanes.Create(orientation), perDegree = TLanes.Create(binsPerDegree), zero = TLanes.Create(0f);
        TVector bins = TLanes.Create(n), one = TLanes.Create(1f), rowStride = TLanes.Create(d + 2), binStride = TLanes.Create(n + 2);
        int s = 0;
        for (; s <= samples - count; s += count)
        {
            TVector rbin = TLanes.Load(ref rows, s), cbin = TLanes.Load(ref columns, s);
            TVector obin = TLanes.Multiply(TLanes.Subtract(TLanes.Load(ref angles, s), orientationV), perDegree);
            TVector magnitude = TLanes.Multiply(TLanes.Load(ref magnitudes, s), TLanes.Load(ref weights, s));
            TVector r0 = TLanes.Floor(rbin), c0 = TLanes.Floor(cbin), o0 = TLanes.Floor(obin);
            rbin = TLanes.Subtract(rbin, r0);
            cbin = TLanes.Subtract(cbin, c0);
            obin = TLanes.Subtract(obin, o0);
            o0 = TLanes.Select(TLanes.LessThan(o0, zero), TLanes.Add(o0, bins), o0);
            o0 = TLanes.Select(TLanes.GreaterThanOrEqual(o0, bins), TLanes.Subtract(o0, bins), o0);

            TVector vR1 = TLanes.Multiply(magnitude, rbin), vR0 = TLanes.Subtract(magnitude, vR1);
            TVector vRc11 = TLanes.Multiply(vR1, cbin), vRc10 = TLanes.Subtract(vR1, vRc11);
            TVector vRc01 = TLanes.Multiply(vR0, cbin), vRc00 = TLanes.Subtract(vR0, vRc01);
            TVector vRco111 = TLanes.Multiply(vRc11, obin);
            TVector vRco101 = TLanes.Multiply(vRc10, obin);
            TVector vRco011 = TLanes.Multiply(vRc01, obin);
            TVector vRco001 = TLanes.Multiply(vRc00, obin);
            TLanes.Store(TLanes.Subtract(vRc00, vRco001), ref part, 0 * count);
            TLanes.Store(vRco001, ref part, 1 * count);
            TLanes.Store(TLanes.Subtract(vRc01, vRco011), ref part, 2 * count);
            TLanes.Store(vRco011, ref part, 3 * count);
            TLanes.Store(TLanes.Subtract(vRc10, vRco101), ref part, 4 * count);
            TLanes.Store(vRco101, ref part, 5 * count);
            TLanes.Store(TLanes.Subtract(vRc11, vRco111), ref part, 6 * count);
            TLanes.Store(vRco111, ref part, 7 * count);
            // ((r0 + 1)(d + 2) + c0 + 1)(n + 2) + o0, exact in float for these small integers.
            TVector baseIndex = TLanes.Add(TLanes.Multiply(TLanes.Add(TLanes.Multiply(TLanes.Add(r0, one), rowStride), TLanes.Add(c0, one)), binStride), o0);
            TLanes.StoreTruncated(baseIndex, ref index, 0);
            for (int lane = 0; lane < count; lane++)
            {
                ref float at = ref Unsafe.Add(ref h, Unsafe.Add(ref index, lane));
                at += Unsafe.Add(ref part, lane);
                Unsafe.Add(ref at, 1) += Unsafe.Add(ref part, count + lane);
                Unsafe.Add(ref at, n + 2) += Unsafe.Add(ref part, 2 * count + lane);
                Unsafe.Add(ref at, n + 3) += Unsafe.Add(ref part, 3 * count + lane);
                Unsafe.Add(ref at, (d + 2) * (n + 2)) += Unsafe.Add(ref part, 4 * count + lane);
                Unsafe.Add(ref at, (d + 2) * (n + 2) + 1) += Unsafe.Add(ref part, 5 * count + lane);
                Unsafe.Add(ref at, (d + 3) * (n + 2)) += Unsafe.Add(ref part, 6 * count + lane);
                Unsafe.Add(ref at, (d + 3) * (n + 2) + 1) += Unsafe.Add(ref part, 7 * count + lane);
            }
        }
        for (; s < samples; s++)
        {
            float rbin = Unsafe.Add(ref rows, s), cbin = Unsafe.Add(ref columns, s);
            float obin = (Unsafe.Add(ref angles, s) - orientation) * binsPerDegree;
            float magnitude = Unsafe.Add(ref magnitudes, s) * Unsafe.Add(ref weights, s);
            int r0 = (int)MathF.Floor(rbin), c0 = (int)MathF.Floor(cbin), o0 = (int)MathF.Floor(obin);
            rbin -= r0;
            cbin -= c0;
            obin -= o0;
            if (o0 < 0) o0 += n;
            if (o0 >= n) o0 -= n;
            float vR1 = magnitude * rbin, vR0 = magnitude - vR1;
            float vRc11 = vR1 * cbin, vRc10 = vR1 - vRc11;
            float vRc01 = vR0 * cbin, vRc00 = vR0 - vRc01;
            float vRco111 = vRc11 * obin, vRco110 = vRc11 - vRco111;
            float vRco101 = vRc10 * obin, vRco100 = vRc10 - vRco101;
            float vRco011 = vRc01 * obin, vRco010 = vRc01 - vRco011;
            float vRco001 = vRc00 * obin, vRco000 = vRc00 - vRco001;
            int i0 = ((r0 + 1) * (d + 2) + c0 + 1) * (n + 2) + o0;
            histogram[i0] += vRco000;
            histogram[i0 + 1] += vRco001;
            histogram[i0 + (n + 2)] += vRco010;
            histogram[i0 + (n + 3)] += vRco011;
            histogram[i0 + (d + 2) * (n + 2)] += vRco100;
            histogram[i0 + (d + 2) * (n + 2) + 1] += vRco101;
            histogram[i0 + (d + 3) * (n + 2)] += vRco110;
            histogram[i0 + (d + 3) * (n + 2) + 1] += vRco111;
        }
    }

    // Columns j of row i (relative to the keypoint) whose rotated coordinates can lie within the bins: both
    // |j·cos − i·sin| and |j·sin + i·cos| below d/2 + ½ (bin coordinates in (−1, d)), widened by one column.
    private static (int First, int Last) ColumnRun(int i, float cos, float sin, int radius)
    {
        const double limit = Width / 2.0 + 0.5;
        double low = -radius, high = radius;
        Narrow(cos, -i * (double)sin, ref low, ref high);
        Narrow(sin, i * (double)cos, ref low, ref high);
        if (low > high) return (0, -1);
        return (Math.Max(-radius, (int)Math.Floor(low) - 1), Math.Min(radius, (int)Math.Ceiling(high) + 1));

        // Intersects [low, high] with the j where |a·j + b| < limit.
        static void Narrow(double a, double b, ref double low, ref double high)
        {
            if (Math.Abs(a) < 1e-12)
            {
                if (Math.Abs(b) >= limit + 1e-6) (low, high) = (1, 0);
                return;
            }
            double j0 = (-limit - b) / a, j1 = (limit - b) / a;
            if (j0 > j1) (j0, j1) = (j1, j0);
            low = Math.Max(low, j0);
            high = Math.Min(high, j1);
        }
    }
}
