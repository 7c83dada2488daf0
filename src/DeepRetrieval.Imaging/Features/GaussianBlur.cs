using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DeepRetrieval.Imaging.Features;

/// <summary>
/// Separable Gaussian blur of a float plane as OpenCV's <c>GaussianBlur</c> does it for a CV_32F image with
/// <c>ksize = Size()</c>: kernel size <c>cvRound(8σ + 1) | 1</c>, weights <c>exp(−x² / 2σ²)</c> normalised in double
/// and rounded to float, border <c>BORDER_REFLECT_101</c>, a horizontal pass then a vertical one. Both passes are
/// vectorised across columns and accumulate in OpenCV's order (every tap in turn along rows, symmetric pairs of taps
/// down columns), so the rounding is OpenCV's with FMA; they are fused row by row
/// through a small ring of horizontally blurred rows, since the blur is bound by memory traffic, not arithmetic.
/// </summary>
internal static class GaussianBlur
{
    /// <summary>OpenCV's <c>getGaussianKernel(cvRound(8σ + 1) | 1, σ, CV_32F)</c>.</summary>
    public static float[] Kernel(double sigma)
    {
        int size = (int)Math.Round(sigma * 8 + 1, MidpointRounding.ToEven) | 1;
        int half = (size - 1) / 2;
        double scale = -0.125 / (sigma * sigma);
        var values = new double[half];
        double sum = 0;
        for (int i = 0, x = 1 - size; i < half; i++, x += 2)
        {
            values[i] = Math.Exp(x * x * scale);
            sum += values[i];
        }
        sum = sum * 2 + 1;
        double normalise = 1 / sum;
        var kernel = new float[size];
        for (int i = 0; i < half; i++)
            kernel[i] = kernel[size - 1 - i] = (float)(values[i] * normalise);
        kernel[half] = (float)normalise;
        return kernel;
    }

    /// <summary>OpenCV's <c>borderInterpolate(p, length, BORDER_REFLECT_101)</c>: mirror without repeating the edge.</summary>
    public static int Reflect101(int p, int length)
    {
        if (length == 1) return 0;
        while ((uint)p >= (uint)length)
            p = p < 0 ? -p : 2 * length - 2 - p;
        return p;
    }

    /// <summary>
    /// Blurs <paramref name="source"/> into <paramref name="destination"/> (distinct planes of width × height). Rows are
    /// blurred horizontally into a ring of 2r + 1 rows that stays in cache and combined vertically from there, so each
    /// plane is read once and written once; with more than one thread the plane is split into bands of rows, each with
    /// its own ring. <paramref name="scratch"/> (at least width × height floats) holds the rings.
    /// </summary>
    public static void Apply(float[] source, float[] destination, float[] scratch, int width, int height, float[] kernel, int maxDegreeOfParallelism)
    {
        int ring = Math.Min(kernel.Length, height);
        int bands = Math.Max(1, Math.Min(maxDegreeOfParallelism, height / 32));
        // Each band's ring lives in its own part of the scratch plane.
        bands = Math.Min(bands, Math.Max(1, height / ring));
        if (bands == 1)
        {
            BlurBand(source, destination, scratch, 0, width, height, 0, height, kernel);
            return;
        }
        Parallel.For(0, bands, new ParallelOptions { MaxDegreeOfParallelism = bands },
            b => BlurBand(source, destination, scratch, b * ring * width, width, height, b * height / bands, (b + 1) * height / bands, kernel));
    }

    // Output rows [rowStart, rowEnd): horizontal rows go to ring slot (row mod ring), computed when first needed.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BlurBand(float[] source, float[] destination, float[] scratch, int ringOffset, int width, int height, int rowStart, int rowEnd, float[] kernel)
    {
        int radius = kernel.Length / 2, ring = Math.Min(kernel.Length, height);
        var slotRow = new int[ring];
        Array.Fill(slotRow, -1);
        float[] padded = new float[width + 2 * radius];
        int[] above = new int[radius + 1], below = new int[radius + 1];
        for (int y = rowStart; y < rowEnd; y++)
        {
            for (int j = 0; j <= radius; j++)
            {
                above[j] = Slot(Reflect101(y - j, height));
                below[j] = Slot(Reflect101(y + j, height));
            }
            ColumnRow(scratch, destination, y * width, width, above, below, kernel);
        }

        // The scratch offset of source row `row`'s horizontal blur, computing it if its slot holds another row.
        int Slot(int row)
        {
            int slot = row % ring;
            if (slotRow[slot] != row)
            {
                HorizontalRow(source.AsSpan(row * width, width), padded, scratch.AsSpan(ringOffset + slot * width, width), kernel);
                slotRow[slot] = row;
            }
            return ringOffset + slot * width;
        }
    }

    private static void HorizontalRow(ReadOnlySpan<float> row, float[] padded, Span<float> output, float[] kernel)
    {
        int width = row.Length, radius = kernel.Length / 2;
        row.CopyTo(padded.AsSpan(radius));
        for (int i = 1; i <= radius; i++)
        {
            padded[radius - i] = row[Reflect101(-i, width)];
            padded[radius + width - 1 + i] = row[Reflect101(width - 1 + i, width)];
        }
        switch (SimdDispatch.Width)
        {
            case SimdWidth.Bits512 when width >= Vector512<float>.Count:
                Row<Lanes512, Vector512<float>>(padded, output, kernel);
                break;
            case SimdWidth.Bits256 or SimdWidth.Bits512 when width >= Vector256<float>.Count:
                Row<Lanes256, Vector256<float>>(padded, output, kernel);
                break;
            default:
                Row<LanesScalar, float>(padded, output, kernel);
                break;
        }
    }

    private static void ColumnRow(float[] source, float[] destination, int rowOffset, int width, int[] above, int[] below, float[] kernel)
    {
        switch (SimdDispatch.Width)
        {
            case SimdWidth.Bits512 when width >= Vector512<float>.Count:
                Column<Lanes512, Vector512<float>>(source, destination, rowOffset, width, above, below, kernel);
                break;
            case SimdWidth.Bits256 or SimdWidth.Bits512 when width >= Vector256<float>.Count:
                Column<Lanes256, Vector256<float>>(source, destination, rowOffset, width, above, below, kernel);
                break;
            default:
                Column<LanesScalar, float>(source, destination, rowOffset, width, above, below, kernel);
                break;
        }
    }

    // output[x] = Σₜ k[t]·p[x + t] over a padded row p, one fused multiply-add per tap from the leftmost tap on, in the
    // order of OpenCV's RowVec_32f (its row filter does not pair symmetric taps, unlike its column filter), so that the
    // rounding matches. Each tap's multiply-add depends on the previous one, so four vectors are accumulated side by side
    // to keep four chains in flight; the last vector overlaps the one before it when the width is not a multiple of
    // the lane count.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row<TLanes, TVector>(float[] padded, Span<float> output, float[] kernel)
        where TLanes : IFloatLanes<TVector> where TVector : struct
    {
        int width = output.Length, taps = kernel.Length, count = TLanes.Count;
        ref float p = ref MemoryMarshal.GetArrayDataReference(padded);
        ref float o = ref MemoryMarshal.GetReference(output);
        ref float k = ref MemoryMarshal.GetArrayDataReference(kernel);
        TVector zero = TLanes.Create(0f);
        int x = 0;
        for (; x <= width - 4 * count; x += 4 * count)
        {
            TVector s0 = zero, s1 = zero, s2 = zero, s3 = zero;
            for (int t = 0; t < taps; t++)
            {
                TVector w = TLanes.Create(Unsafe.Add(ref k, t));
                nint at = x + t;
                s0 = TLanes.MultiplyAdd(TLanes.Load(ref p, at), w, s0);
                s1 = TLanes.MultiplyAdd(TLanes.Load(ref p, at + count), w, s1);
                s2 = TLanes.MultiplyAdd(TLanes.Load(ref p, at + 2 * count), w, s2);
                s3 = TLanes.MultiplyAdd(TLanes.Load(ref p, at + 3 * count), w, s3);
            }
            TLanes.Store(s0, ref o, x);
            TLanes.Store(s1, ref o, x + count);
            TLanes.Store(s2, ref o, x + 2 * count);
            TLanes.Store(s3, ref o, x + 3 * count);
        }
        for (; x < width; x += count)
        {
            if (x > width - count) x = width - count;
            TVector sum = zero;
            for (int t = 0; t < taps; t++)
                sum = TLanes.MultiplyAdd(TLanes.Load(ref p, x + t), TLanes.Create(Unsafe.Add(ref k, t)), sum);
            TLanes.Store(sum, ref o, x);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Column<TLanes, TVector>(float[] source, float[] destination, int rowOffset, int width, int[] above, int[] below, float[] kernel)
        where TLanes : IFloatLanes<TVector> where TVector : struct
    {
        int radius = kernel.Length / 2, count = TLanes.Count;
        ref float s = ref MemoryMarshal.GetArrayDataReference(source);
        ref float d = ref MemoryMarshal.GetArrayDataReference(destination);
        ref float k = ref MemoryMarshal.GetArrayDataReference(kernel);
        TVector centreWeight = TLanes.Create(Unsafe.Add(ref k, radius));
        // Four vectors per pass over the taps: four independent multiply-add chains, and one broadcast per tap for all four.
        int x = 0;
        for (; x <= width - 4 * count; x += 4 * count)
        {
            nint centre = above[0] + x;
            TVector s0 = TLanes.Multiply(centreWeight, TLanes.Load(ref s, centre));
            TVector s1 = TLanes.Multiply(centreWeight, TLanes.Load(ref s, centre + count));
            TVector s2 = TLanes.Multiply(centreWeight, TLanes.Load(ref s, centre + 2 * count));
            TVector s3 = TLanes.Multiply(centreWeight, TLanes.Load(ref s, centre + 3 * count));
            for (int j = 1; j <= radius; j++)
            {
                TVector w = TLanes.Create(Unsafe.Add(ref k, radius + j));
                nint up = above[j] + x, down = below[j] + x;
                s0 = TLanes.MultiplyAdd(w, TLanes.Add(TLanes.Load(ref s, up), TLanes.Load(ref s, down)), s0);
                s1 = TLanes.MultiplyAdd(w, TLanes.Add(TLanes.Load(ref s, up + count), TLanes.Load(ref s, down + count)), s1);
                s2 = TLanes.MultiplyAdd(w, TLanes.Add(TLanes.Load(ref s, up + 2 * count), TLanes.Load(ref s, down + 2 * count)), s2);
                s3 = TLanes.MultiplyAdd(w, TLanes.Add(TLanes.Load(ref s, up + 3 * count), TLanes.Load(ref s, down + 3 * count)), s3);
            }
            TLanes.Store(s0, ref d, rowOffset + x);
            TLanes.Store(s1, ref d, rowOffset + x + count);
            TLanes.Store(s2, ref d, rowOffset + x + 2 * count);
            TLanes.Store(s3, ref d, rowOffset + x + 3 * count);
        }
        for (; x < width; x += count)
        {
            if (x > width - count) x = width - count;
            TVector sum = TLanes.Multiply(centreWeight, TLanes.Load(ref s, above[0] + x));
            for (int j = 1; j <= radius; j++)
            {
                TVector pair = TLanes.Add(TLanes.Load(ref s, above[j] + x), TLanes.Load(ref s, below[j] + x));
                sum = TLanes.MultiplyAdd(TLanes.Create(Unsafe.Add(ref k, radius + j)), pair, sum);
            }
            TLanes.Store(sum, ref d, rowOffset + x);
        }
    }
}
