using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DeepRetrieval.Imaging.Processing;

/// <summary>
/// Pillow's convolution resampler (libImaging/Resample.c) reproduced exactly for 8-bit images: coefficients computed
/// in double, normalised to sum 1, rounded to 22-bit fixed point; a horizontal pass over the rows the vertical pass
/// needs, rounded and clipped to 8 bits, then a vertical pass. The loops are vectorised over channels (horizontal) and
/// over the row (vertical); integer sums are exact, so the order of additions does not change a single value.
/// </summary>
internal static class PilResampler
{
    private const int PrecisionBits = 32 - 8 - 2;
    private const int Half = 1 << (PrecisionBits - 1);

    internal readonly struct Coefficients(int[] bounds, int[] weights, int taps)
    {
        /// <summary>Per output index: first source index and the number of taps used.</summary>
        public int[] Bounds { get; } = bounds;

        /// <summary>Per output index, <see cref="Taps"/> fixed-point weights (unused ones zero).</summary>
        public int[] Weights { get; } = weights;

        public int Taps { get; } = taps;
    }

    public static void Resize(ReadOnlySpan<byte> source, int width, int height, int channels,
        Span<byte> destination, int outWidth, int outHeight, ResizeFilter filter)
    {
        bool horizontal = outWidth != width, vertical = outHeight != height;
        if (!horizontal && !vertical)
        {
            source.CopyTo(destination);
            return;
        }
        Coefficients columns = horizontal ? Compute(width, 0f, width, outWidth, filter) : default;
        Coefficients rows = vertical ? Compute(height, 0f, height, outHeight, filter) : default;
        if (!horizontal)
        {
            Vertical(source, outWidth * channels, destination, outHeight, rows, 0);
            return;
        }

        // Only the source rows the vertical pass reads are resampled horizontally.
        int firstRow = vertical ? rows.Bounds[0] : 0;
        int lastRow = vertical ? rows.Bounds[2 * outHeight - 2] + rows.Bounds[2 * outHeight - 1] : height;
        if (!vertical)
        {
            Horizontal(source, width, channels, destination, outWidth, 0, height, columns);
            return;
        }
        int tempStride = outWidth * channels;
        byte[] temp = System.Buffers.ArrayPool<byte>.Shared.Rent(tempStride * (lastRow - firstRow));
        try
        {
            Span<byte> tempSpan = temp.AsSpan(0, tempStride * (lastRow - firstRow));
            Horizontal(source, width, channels, tempSpan, outWidth, firstRow, lastRow, columns);
            Vertical(tempSpan, tempStride, destination, outHeight, rows, firstRow);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(temp);
        }
    }

    /// <summary>Pillow's <c>precompute_coeffs</c> followed by <c>normalize_coeffs_8bpc</c>.</summary>
    internal static Coefficients Compute(int inSize, float in0, float in1, int outSize, ResizeFilter filter)
    {
        double support0 = filter switch
        {
            ResizeFilter.Box => 0.5,
            ResizeFilter.Bilinear or ResizeFilter.Hamming => 1.0,
            ResizeFilter.Bicubic => 2.0,
            ResizeFilter.Lanczos => 3.0,
            _ => throw new ArgumentOutOfRangeException(nameof(filter), filter, "Not a PIL convolution filter."),
        };
        double scale = (double)(in1 - in0) / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = support0 * filterScale;
        int taps = (int)Math.Ceiling(support) * 2 + 1;
        var bounds = new int[outSize * 2];
        var weights = new int[outSize * taps];
        Span<double> k = taps <= 256 ? stackalloc double[taps] : new double[taps];
        double inverseScale = 1.0 / filterScale;
        for (int xx = 0; xx < outSize; xx++)
        {
            double center = in0 + (xx + 0.5) * scale;
            int xmin = Math.Max(0, (int)(center - support + 0.5));
            int xmax = Math.Min(inSize, (int)(center + support + 0.5)) - xmin;
            double sum = 0.0;
            for (int x = 0; x < xmax; x++)
            {
                double w = Kernel(filter, (x + xmin - center + 0.5) * inverseScale);
                k[x] = w;
                sum += w;
            }
            Span<int> row = weights.AsSpan(xx * taps, taps);
            for (int x = 0; x < xmax; x++)
            {
                double w = sum != 0.0 ? k[x] / sum : k[x];
                row[x] = w < 0 ? (int)(-0.5 + w * (1 << PrecisionBits)) : (int)(0.5 + w * (1 << PrecisionBits));
            }
            bounds[2 * xx] = xmin;
            bounds[2 * xx + 1] = Math.Max(0, xmax);
        }
        return new Coefficients(bounds, weights, taps);
    }

    private static double Kernel(ResizeFilter filter, double x)
    {
        switch (filter)
        {
            case ResizeFilter.Box:
                return x > -0.5 && x <= 0.5 ? 1.0 : 0.0;
            case ResizeFilter.Bilinear:
                x = Math.Abs(x);
                return x < 1.0 ? 1.0 - x : 0.0;
            case ResizeFilter.Hamming:
                x = Math.Abs(x);
                if (x == 0.0) return 1.0;
                if (x >= 1.0) return 0.0;
                x *= Math.PI;
                // Pillow writes the window's constants as floats: 0.54f and 0.46f, widened to double.
                return Math.Sin(x) / x * ((double)0.54f + (double)0.46f * Math.Cos(x));
            case ResizeFilter.Bicubic:
                const double a = -0.5;
                x = Math.Abs(x);
                if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
                if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
                return 0.0;
            default:
                return -3.0 <= x && x < 3.0 ? Sinc(x) * Sinc(x / 3) : 0.0;
        }
    }

    private static double Sinc(double x)
    {
        if (x == 0.0) return 1.0;
        x *= Math.PI;
        return Math.Sin(x) / x;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte Clip8(int sum)
    {
        int v = sum >> PrecisionBits;
        return (byte)(v < 0 ? 0 : v > 255 ? 255 : v);
    }

    private static unsafe void Horizontal(ReadOnlySpan<byte> source, int width, int channels, Span<byte> destination,
        int outWidth, int firstRow, int lastRow, Coefficients c)
    {
        int taps = c.Taps, inStride = width * channels, outStride = outWidth * channels;
        fixed (byte* src = source)
        fixed (byte* dst = destination)
        fixed (int* bounds = c.Bounds)
        fixed (int* weights = c.Weights)
        {
            for (int y = firstRow; y < lastRow; y++)
            {
                byte* line = src + (long)y * inStride;
                byte* output = dst + (long)(y - firstRow) * outStride;
                switch (channels)
                {
                    case 4 when Avx2.IsSupported:
                        HorizontalRgba(line, output, outWidth, bounds, weights, taps);
                        break;
                    case 3 when Sse41.IsSupported:
                        HorizontalRgb(line, output, outWidth, bounds, weights, taps, y == lastRow - 1 && (long)y * inStride + inStride == source.Length);
                        break;
                    case 1 when Avx2.IsSupported:
                        HorizontalGray(line, output, outWidth, bounds, weights, taps);
                        break;
                    default:
                        HorizontalScalar(line, output, outWidth, channels, bounds, weights, taps);
                        break;
                }
            }
        }
    }

    private static unsafe void HorizontalScalar(byte* line, byte* output, int outWidth, int channels, int* bounds, int* weights, int taps)
    {
        Span<int> sums = stackalloc int[4];
        for (int xx = 0; xx < outWidth; xx++)
        {
            int xmin = bounds[2 * xx], xmax = bounds[2 * xx + 1];
            int* k = weights + xx * taps;
            sums.Fill(Half);
            byte* p = line + xmin * channels;
            for (int x = 0; x < xmax; x++, p += channels)
                for (int ch = 0; ch < channels; ch++)
                    sums[ch] += p[ch] * k[x];
            for (int ch = 0; ch < channels; ch++)
                output[xx * channels + ch] = Clip8(sums[ch]);
        }
    }

    // Two source pixels (8 bytes) per step: lanes 0–3 take tap x, lanes 4–7 tap x + 1; the halves are added at the end.
    private static unsafe void HorizontalRgba(byte* line, byte* output, int outWidth, int* bounds, int* weights, int taps)
    {
        Vector128<int> half = Vector128.Create(Half);
        for (int xx = 0; xx < outWidth; xx++)
        {
            int xmin = bounds[2 * xx], xmax = bounds[2 * xx + 1];
            int* k = weights + xx * taps;
            byte* p = line + xmin * 4;
            Vector256<int> acc = Vector256<int>.Zero;
            int x = 0;
            for (; x + 2 <= xmax; x += 2)
            {
                Vector256<int> pixels = Avx2.ConvertToVector256Int32(p + x * 4);
                Vector256<int> w = Vector256.Create(Vector128.Create(k[x]), Vector128.Create(k[x + 1]));
                acc += Avx2.MultiplyLow(pixels, w);
            }
            Vector128<int> sum = acc.GetLower() + acc.GetUpper() + half;
            if (x < xmax)
                sum += Sse41.MultiplyLow(Sse41.ConvertToVector128Int32(p + x * 4), Vector128.Create(k[x]));
            Vector128<int> clipped = Vector128.Min(Vector128.Max(Vector128.ShiftRightArithmetic(sum, PrecisionBits), Vector128<int>.Zero), Vector128.Create(255));
            Vector128<byte> packed = Vector128.Narrow(Vector128.Narrow(clipped, clipped), Vector128<short>.Zero).AsByte();
            *(uint*)(output + xx * 4) = packed.AsUInt32().ToScalar();
        }
    }

    // Four bytes are read per source pixel (the fourth lane belongs to the next pixel and is ignored); the very last
    // pixel of the buffer is read by the scalar loop so nothing past the end is touched.
    private static unsafe void HorizontalRgb(byte* line, byte* output, int outWidth, int* bounds, int* weights, int taps, bool lastLineOfBuffer)
    {
        Vector128<int> half = Vector128.Create(Half);
        for (int xx = 0; xx < outWidth; xx++)
        {
            int xmin = bounds[2 * xx], xmax = bounds[2 * xx + 1];
            int* k = weights + xx * taps;
            byte* p = line + xmin * 3;
            int vectorTaps = lastLineOfBuffer ? xmax - 1 : xmax;
            Vector128<int> sum = half;
            int x = 0;
            for (; x < vectorTaps; x++)
                sum += Sse41.MultiplyLow(Sse41.ConvertToVector128Int32(p + x * 3), Vector128.Create(k[x]));
            int s0 = sum.GetElement(0), s1 = sum.GetElement(1), s2 = sum.GetElement(2);
            for (; x < xmax; x++)
            {
                s0 += p[x * 3] * k[x];
                s1 += p[x * 3 + 1] * k[x];
                s2 += p[x * 3 + 2] * k[x];
            }
            output[xx * 3] = Clip8(s0);
            output[xx * 3 + 1] = Clip8(s1);
            output[xx * 3 + 2] = Clip8(s2);
        }
    }

    private static unsafe void HorizontalGray(byte* line, byte* output, int outWidth, int* bounds, int* weights, int taps)
    {
        for (int xx = 0; xx < outWidth; xx++)
        {
            int xmin = bounds[2 * xx], xmax = bounds[2 * xx + 1];
            int* k = weights + xx * taps;
            byte* p = line + xmin;
            Vector256<int> acc = Vector256<int>.Zero;
            int x = 0;
            // Reading 8 bytes needs them inside the row's taps; the weights past xmax are zero but the bytes may not exist.
            for (; x + 8 <= xmax; x += 8)
                acc += Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(p + x), Avx.LoadVector256(k + x));
            int sum = Half + Vector256.Sum(acc);
            for (; x < xmax; x++)
                sum += p[x] * k[x];
            output[xx] = Clip8(sum);
        }
    }

    private static unsafe void Vertical(ReadOnlySpan<byte> source, int stride, Span<byte> destination, int outHeight, Coefficients c, int rowOffset)
    {
        int taps = c.Taps;
        fixed (byte* src = source)
        fixed (byte* dst = destination)
        fixed (int* bounds = c.Bounds)
        fixed (int* weights = c.Weights)
        {
            for (int yy = 0; yy < outHeight; yy++)
            {
                int ymin = bounds[2 * yy] - rowOffset, ymax = bounds[2 * yy + 1];
                int* k = weights + yy * taps;
                byte* first = src + (long)ymin * stride;
                byte* output = dst + (long)yy * stride;
                int x = 0;
                if (Avx2.IsSupported)
                {
                    Vector256<int> half = Vector256.Create(Half), max = Vector256.Create(255);
                    for (; x + 32 <= stride; x += 32)
                    {
                        Vector256<int> a0 = half, a1 = half, a2 = half, a3 = half;
                        byte* p = first + x;
                        for (int y = 0; y < ymax; y++, p += stride)
                        {
                            Vector256<int> w = Vector256.Create(k[y]);
                            a0 += Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(p), w);
                            a1 += Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(p + 8), w);
                            a2 += Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(p + 16), w);
                            a3 += Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(p + 24), w);
                        }
                        a0 = Vector256.Min(Vector256.Max(Vector256.ShiftRightArithmetic(a0, PrecisionBits), Vector256<int>.Zero), max);
                        a1 = Vector256.Min(Vector256.Max(Vector256.ShiftRightArithmetic(a1, PrecisionBits), Vector256<int>.Zero), max);
                        a2 = Vector256.Min(Vector256.Max(Vector256.ShiftRightArithmetic(a2, PrecisionBits), Vector256<int>.Zero), max);
                        a3 = Vector256.Min(Vector256.Max(Vector256.ShiftRightArithmetic(a3, PrecisionBits), Vector256<int>.Zero), max);
                        Vector256<byte> bytes = Vector256.Narrow(Vector256.Narrow(a0, a1), Vector256.Narrow(a2, a3)).AsByte();
                        bytes.Store(output + x);
                    }
                }
                for (; x < stride; x++)
                {
                    int sum = Half;
                    byte* p = first + x;
                    for (int y = 0; y < ymax; y++, p += stride)
                        sum += *p * k[y];
                    output[x] = Clip8(sum);
                }
            }
        }
    }
}
