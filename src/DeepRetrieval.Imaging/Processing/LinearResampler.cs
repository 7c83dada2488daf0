namespace DeepRetrieval.Imaging.Processing;

/// <summary>
/// OpenCV's <c>INTER_LINEAR_EXACT</c> for 8-bit images (imgproc/src/resize.cpp, <c>interpolationLinear</c> and
/// <c>resize_bitExact</c>): source coordinate (d + 0.5) × in/out − 0.5, weights rounded half-to-even to 8 fractional
/// bits, a horizontal pass kept at 16 bits, a vertical pass rounded half up; outputs left of (or above) the first source
/// centre copy the first pixel and those right of (below) the last centre copy the last one.
/// </summary>
internal static class LinearResampler
{
    private readonly struct Axis(int[] offsets, int[] weights, int first, int last)
    {
        /// <summary>Left source index of each output index.</summary>
        public int[] Offsets { get; } = offsets;

        /// <summary>Weight of the right source pixel, 0–256 (the left one weighs 256 minus it).</summary>
        public int[] Weights { get; } = weights;

        /// <summary>Outputs below this index copy source index 0.</summary>
        public int First { get; } = first;

        /// <summary>Outputs from this index on copy the last source index.</summary>
        public int Last { get; } = last;
    }

    public static void Resize(ReadOnlySpan<byte> source, int width, int height, int channels,
        Span<byte> destination, int outWidth, int outHeight)
    {
        Axis columns = ComputeAxis(width, outWidth), rows = ComputeAxis(height, outHeight);
        int outStride = outWidth * channels, inStride = width * channels;
        var upper = new int[outStride];
        var lower = new int[outStride];
        int upperRow = -1, lowerRow = -1;
        for (int dy = 0; dy < outHeight; dy++)
        {
            Span<byte> output = destination.Slice(dy * outStride, outStride);
            if (dy < rows.First || dy >= rows.Last)
            {
                int sy = dy < rows.First ? 0 : height - 1;
                Horizontal(source.Slice(sy * inStride, inStride), channels, columns, outWidth, upper);
                upperRow = -1;
                for (int i = 0; i < outStride; i++)
                    output[i] = (byte)Math.Min(255, (upper[i] + 128) >> 8);
                continue;
            }
            int top = rows.Offsets[dy];
            if (upperRow != top)
            {
                if (lowerRow == top)
                    (upper, lower, upperRow, lowerRow) = (lower, upper, lowerRow, upperRow);
                else
                {
                    Horizontal(source.Slice(top * inStride, inStride), channels, columns, outWidth, upper);
                    upperRow = top;
                }
            }
            if (lowerRow != top + 1)
            {
                Horizontal(source.Slice((top + 1) * inStride, inStride), channels, columns, outWidth, lower);
                lowerRow = top + 1;
            }
            int b1 = rows.Weights[dy], b0 = 256 - b1;
            for (int i = 0; i < outStride; i++)
                output[i] = (byte)Math.Min(255, (upper[i] * b0 + lower[i] * b1 + (1 << 15)) >> 16);
        }
    }

    private static void Horizontal(ReadOnlySpan<byte> line, int channels, Axis axis, int outWidth, Span<int> output)
    {
        int lastPixel = line.Length - channels;
        for (int dx = 0; dx < outWidth; dx++)
        {
            Span<int> o = output.Slice(dx * channels, channels);
            if (dx < axis.First || dx >= axis.Last)
            {
                int at = dx < axis.First ? 0 : lastPixel;
                for (int c = 0; c < channels; c++)
                    o[c] = line[at + c] << 8;
                continue;
            }
            int left = axis.Offsets[dx] * channels, a1 = axis.Weights[dx], a0 = 256 - a1;
            for (int c = 0; c < channels; c++)
                o[c] = line[left + c] * a0 + line[left + channels + c] * a1;
        }
    }

    private static Axis ComputeAxis(int inSize, int outSize)
    {
        // cv::resize computes inv_scale = out / in and the interpolator 1 / inv_scale, both in double.
        double scale = 1.0 / ((double)outSize / inSize);
        var offsets = new int[outSize];
        var weights = new int[outSize];
        int first = 0, last = outSize;
        for (int d = 0; d < outSize; d++)
        {
            double position = scale * (d + 0.5) - 0.5;
            int left = (int)Math.Floor(position);
            if (left >= 0 && inSize > 1)
            {
                if (left < inSize - 1)
                {
                    offsets[d] = left;
                    weights[d] = (int)Math.Round((position - left) * 256, MidpointRounding.ToEven);
                }
                else
                {
                    offsets[d] = inSize - 1;
                    last = Math.Min(last, d);
                }
            }
            else
            {
                first = Math.Max(first, d + 1);
            }
        }
        return new Axis(offsets, weights, first, last);
    }
}
