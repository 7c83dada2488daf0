using System.Runtime.CompilerServices;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DeepRetrieval.Imaging.Features;

/// <summary>
/// Finds SIFT keypoints in a <see cref="ScaleSpace"/> as OpenCV's <c>findScaleSpaceExtrema</c> does: pixels whose DoG
/// value exceeds ⌊0.5 · contrast / layers · 255⌋ and is ≥ (maxima) or ≤ (minima) all 26 neighbours, refined by
/// <c>adjustLocalExtrema</c> (up to five Newton steps on the 3-D quadratic, contrast and edge tests), then given one
/// keypoint per orientation peak of a 36-bin gradient histogram (peaks ≥ 0.8 of the highest, parabolic interpolation).
/// The neighbour test is vectorised across columns; the refinement keeps OpenCV's float arithmetic step by step.
/// </summary>
internal sealed class ExtremaDetector
{
    private const int ImageBorder = 5;          // SIFT_IMG_BORDER
    private const int MaxInterpolationSteps = 5; // SIFT_MAX_INTERP_STEPS
    private const int OrientationBins = 36;     // SIFT_ORI_HIST_BINS
    private const float OrientationSigmaFactor = 1.5f;
    private const float OrientationRadius = 3 * OrientationSigmaFactor;
    private const float OrientationPeakRatio = 0.8f;
    private const float FloatEpsilon = 1.1920929e-07f; // FLT_EPSILON

    private readonly ScaleSpace _space;
    private readonly int _layers;
    private readonly float _contrastThreshold;
    private readonly float _edgeThreshold;
    private readonly float _sigma;
    private readonly float _threshold;

    public ExtremaDetector(ScaleSpace space, SiftOptions options)
    {
        _space = space;
        _layers = space.Layers;
        _contrastThreshold = (float)options.ContrastThreshold;
        _edgeThreshold = (float)options.EdgeThreshold;
        _sigma = (float)options.Sigma;
        _threshold = (float)Math.Floor(0.5 * options.ContrastThreshold / _layers * 255);
    }

    /// <summary>Appends the keypoints of DoG layer <paramref name="layer"/> (1 … layers) of octave <paramref name="octave"/>, rows [rowStart, rowEnd).</summary>
    /// <remarks>Coordinates and sizes are in the first octave's pixels, as OpenCV has them before it undoes the up-sampling.</remarks>
    public void FindInLayer(int octave, int layer, int rowStart, int rowEnd, List<Keypoint> output, OrientationScratch scratch)
    {
        int width = _space.Width(octave);
        if (width - ImageBorder <= ImageBorder) return;
        switch (SimdDispatch.Width)
        {
            case SimdWidth.Bits512:
                Scan<Lanes512, Vector512<float>>(octave, layer, rowStart, rowEnd, output, scratch);
                break;
            case SimdWidth.Bits256:
                Scan<Lanes256, Vector256<float>>(octave, layer, rowStart, rowEnd, output, scratch);
                break;
            default:
                Scan<LanesScalar, float>(octave, layer, rowStart, rowEnd, output, scratch);
                break;
        }
    }

    /// <summary>The rows that hold candidates in octave <paramref name="octave"/>: [5, height − 5).</summary>
    public (int Start, int End) CandidateRows(int octave) => (ImageBorder, _space.Height(octave) - ImageBorder);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Scan<TLanes, TVector>(int octave, int layer, int rowStart, int rowEnd, List<Keypoint> output, OrientationScratch scratch)
        where TLanes : IFloatLanes<TVector> where TVector : struct
    {
        int width = _space.Width(octave), count = TLanes.Count;
        ref float current = ref MemoryMarshal.GetArrayDataReference(_space.Dog(octave, layer));
        ref float previous = ref MemoryMarshal.GetArrayDataReference(_space.Dog(octave, layer - 1));
        ref float next = ref MemoryMarshal.GetArrayDataReference(_space.Dog(octave, layer + 1));
        TVector threshold = TLanes.Create(_threshold), zero = TLanes.Create(0f);
        int lastColumn = width - ImageBorder; // exclusive
        for (int r = rowStart; r < rowEnd; r++)
        {
            for (int c = ImageBorder; c < lastColumn; c += count)
            {
                nint at = (nint)r * width + c;
                // Lanes past the last candidate column are masked off below; reads stay inside the plane because the
                // row below the last candidate row exists (the border is five rows).
                TVector value = TLanes.Load(ref current, at);
                TVector strong = TLanes.GreaterThan(TLanes.Abs(value), threshold);
                ulong bits = TLanes.MaskBits(strong);
                if (c + count > lastColumn) bits &= (1UL << (lastColumn - c)) - 1;
                if (bits == 0) continue;

                TVector high = TLanes.Max(TLanes.Load(ref current, at - 1), TLanes.Load(ref current, at + 1));
                TVector low = TLanes.Min(TLanes.Load(ref current, at - 1), TLanes.Load(ref current, at + 1));
                Neighbours<TLanes, TVector>(ref current, at - width, ref high, ref low);
                Neighbours<TLanes, TVector>(ref current, at + width, ref high, ref low);
                Neighbours<TLanes, TVector>(ref previous, at - width, ref high, ref low);
                Neighbours<TLanes, TVector>(ref previous, at, ref high, ref low);
                Neighbours<TLanes, TVector>(ref previous, at + width, ref high, ref low);
                Neighbours<TLanes, TVector>(ref next, at - width, ref high, ref low);
                Neighbours<TLanes, TVector>(ref next, at, ref high, ref low);
                Neighbours<TLanes, TVector>(ref next, at + width, ref high, ref low);
                TVector maximum = TLanes.And(TLanes.GreaterThan(value, zero), TLanes.GreaterThanOrEqual(value, high));
                TVector minimum = TLanes.And(TLanes.LessThan(value, zero), TLanes.LessThanOrEqual(value, low));
                bits &= TLanes.MaskBits(TLanes.Or(maximum, minimum));
                while (bits != 0)
                {
                    int lane = BitOperations.TrailingZeroCount(bits);
                    bits &= bits - 1;
                    AddKeypoints(octave, layer, r, c + lane, output, scratch);
                }
            }
        }
    }

    // Folds the three horizontally adjacent values at offset − 1, offset, offset + 1 into the running max and min.
    private static void Neighbours<TLanes, TVector>(ref float plane, nint offset, ref TVector high, ref TVector low)
        where TLanes : IFloatLanes<TVector> where TVector : struct
    {
        TVector left = TLanes.Load(ref plane, offset - 1), middle = TLanes.Load(ref plane, offset), right = TLanes.Load(ref plane, offset + 1);
        high = TLanes.Max(high, TLanes.Max(TLanes.Max(left, middle), right));
        low = TLanes.Min(low, TLanes.Min(TLanes.Min(left, middle), right));
    }

    private void AddKeypoints(int octave, int layer, int row, int column, List<Keypoint> output, OrientationScratch scratch)
    {
        if (!AdjustLocalExtremum(octave, ref layer, ref row, ref column, out Keypoint keypoint)) return;
        float scaleInOctave = keypoint.Size * 0.5f / (1 << octave);
        Span<float> histogram = stackalloc float[OrientationBins];
        float peak = OrientationHistogram(_space.Gaussian(octave, layer), _space.Width(octave), _space.Height(octave), column, row,
            (int)MathF.Round(OrientationRadius * scaleInOctave, MidpointRounding.ToEven), OrientationSigmaFactor * scaleInOctave, histogram, scratch);
        float threshold = peak * OrientationPeakRatio;
        for (int j = 0; j < OrientationBins; j++)
        {
            int left = j > 0 ? j - 1 : OrientationBins - 1, right = j < OrientationBins - 1 ? j + 1 : 0;
            if (histogram[j] > histogram[left] && histogram[j] > histogram[right] && histogram[j] >= threshold)
            {
                float bin = j + 0.5f * (histogram[left] - histogram[right]) / (histogram[left] - 2 * histogram[j] + histogram[right]);
                bin = bin < 0 ? OrientationBins + bin : bin >= OrientationBins ? bin - OrientationBins : bin;
                float angle = 360f - 360f / OrientationBins * bin;
                if (MathF.Abs(angle - 360f) < FloatEpsilon) angle = 0f;
                output.Add(keypoint with { Angle = angle });
            }
        }
    }

    // OpenCV's adjustLocalExtrema, in the same float operations. Interpolates the extremum to sub-pixel, sub-layer
    // accuracy and rejects it when the iteration leaves the image or does not converge, the contrast is too low, or the
    // principal curvatures are too unequal (an edge).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool AdjustLocalExtremum(int octave, ref int layer, ref int row, ref int column, out Keypoint keypoint)
    {
        const float imageScale = 1f / 255;
        const float derivativeScale = imageScale * 0.5f, secondDerivativeScale = imageScale, crossDerivativeScale = imageScale * 0.25f;
        int width = _space.Width(octave), height = _space.Height(octave);
        float xi = 0, xr = 0, xc = 0;
        int step = 0;
        keypoint = default;
        for (; step < MaxInterpolationSteps; step++)
        {
            float[] image = _space.Dog(octave, layer), previous = _space.Dog(octave, layer - 1), next = _space.Dog(octave, layer + 1);
            int at = row * width + column;
            float dx = (image[at + 1] - image[at - 1]) * derivativeScale;
            float dy = (image[at + width] - image[at - width]) * derivativeScale;
            float ds = (next[at] - previous[at]) * derivativeScale;
            float v2 = image[at] * 2;
            float dxx = (image[at + 1] + image[at - 1] - v2) * secondDerivativeScale;
            float dyy = (image[at + width] + image[at - width] - v2) * secondDerivativeScale;
            float dss = (next[at] + previous[at] - v2) * secondDerivativeScale;
            float dxy = (image[at + width + 1] - image[at + width - 1] - image[at - width + 1] + image[at - width - 1]) * crossDerivativeScale;
            float dxs = (next[at + 1] - next[at - 1] - previous[at + 1] + previous[at - 1]) * crossDerivativeScale;
            float dys = (next[at + width] - next[at - width] - previous[at + width] + previous[at - width]) * crossDerivativeScale;

            Solve3(dxx, dxy, dxs, dyy, dys, dss, dx, dy, ds, out float x0, out float x1, out float x2);
            xi = -x2;
            xr = -x1;
            xc = -x0;
            if (MathF.Abs(xi) < 0.5f && MathF.Abs(xr) < 0.5f && MathF.Abs(xc) < 0.5f) break;
            const float limit = int.MaxValue / 3;
            if (MathF.Abs(xi) > limit || MathF.Abs(xr) > limit || MathF.Abs(xc) > limit) return false;
            column += (int)MathF.Round(xc, MidpointRounding.ToEven);
            row += (int)MathF.Round(xr, MidpointRounding.ToEven);
            layer += (int)MathF.Round(xi, MidpointRounding.ToEven);
            if (layer < 1 || layer > _layers || column < ImageBorder || column >= width - ImageBorder || row < ImageBorder || row >= height - ImageBorder)
                return false;
        }
        if (step >= MaxInterpolationSteps) return false;

        {
            float[] image = _space.Dog(octave, layer), previous = _space.Dog(octave, layer - 1), next = _space.Dog(octave, layer + 1);
            int at = row * width + column;
            float dx = (image[at + 1] - image[at - 1]) * derivativeScale;
            float dy = (image[at + width] - image[at - width]) * derivativeScale;
            float ds = (next[at] - previous[at]) * derivativeScale;
            float t = dx * xc + dy * xr + ds * xi;
            float contrast = image[at] * imageScale + t * 0.5f;
            if (MathF.Abs(contrast) * _layers < _contrastThreshold) return false;

            float v2 = image[at] * 2f;
            float dxx = (image[at + 1] + image[at - 1] - v2) * secondDerivativeScale;
            float dyy = (image[at + width] + image[at - width] - v2) * secondDerivativeScale;
            float dxy = (image[at + width + 1] - image[at + width - 1] - image[at - width + 1] + image[at - width - 1]) * crossDerivativeScale;
            float trace = dxx + dyy, determinant = dxx * dyy - dxy * dxy;
            if (determinant <= 0 || trace * trace * _edgeThreshold >= (_edgeThreshold + 1) * (_edgeThreshold + 1) * determinant) return false;

            int subLayerCode = (int)Math.Round((xi + 0.5) * 255, MidpointRounding.ToEven);
            keypoint = new Keypoint(
                X: (column + xc) * (1 << octave),
                Y: (row + xr) * (1 << octave),
                Size: _sigma * MathF.Pow(2f, (layer + xi) / _layers) * (1 << octave) * 2,
                Angle: 0,
                Response: MathF.Abs(contrast),
                Octave: octave + (layer << 8) + (subLayerCode << 16));
            return true;
        }
    }

    // Matx33f::solve(…, DECOMP_LU) for a 3 × 3 system: Cramer's rule in float, the determinant widened to double
    // for the zero test; a singular system gives the zero vector.
    private static void Solve3(float a00, float a01, float a02, float a11, float a12, float a22, float b0, float b1, float b2,
        out float x0, out float x1, out float x2)
    {
        float a10 = a01, a20 = a02, a21 = a12;
        double det = a00 * (a11 * a22 - a21 * a12) - a01 * (a10 * a22 - a20 * a12) + a02 * (a10 * a21 - a20 * a11);
        if (det == 0)
        {
            x0 = x1 = x2 = 0;
            return;
        }
        float d = 1f / (float)det;
        x0 = d * (b0 * (a11 * a22 - a12 * a21) - a01 * (b1 * a22 - a12 * b2) + a02 * (b1 * a21 - a11 * b2));
        x1 = d * (a00 * (b1 * a22 - a12 * b2) - b0 * (a10 * a22 - a12 * a20) + a02 * (a10 * b2 - b1 * a20));
        x2 = d * (a00 * (a11 * b2 - b1 * a21) - a01 * (a10 * b2 - b1 * a20) + b0 * (a10 * a21 - a11 * a20));
    }

    // OpenCV's calcOrientationHist: gradient magnitudes weighted by a Gaussian of σ = 1.5 · scale, binned by fastAtan2
    // angle into 36 bins (nearest bin), smoothed by [1 4 6 4 1]/16 circularly; returns the largest smoothed bin.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float OrientationHistogram(float[] image, int width, int height, int column, int row, int radius, float sigma,
        Span<float> histogram, OrientationScratch scratch)
    {
        int length = (radius * 2 + 1) * (radius * 2 + 1);
        scratch.Ensure(length);
        float[] xs = scratch.X, ys = scratch.Y, weights = scratch.Weight, angles = scratch.Angle;
        float expScale = -1f / (2f * sigma * sigma);
        int k = 0;
        for (int i = -radius; i <= radius; i++)
        {
            int y = row + i;
            if (y <= 0 || y >= height - 1) continue;
            for (int j = -radius; j <= radius; j++)
            {
                int x = column + j;
                if (x <= 0 || x >= width - 1) continue;
                int at = y * width + x;
                xs[k] = image[at + 1] - image[at - 1];
                ys[k] = image[at - width] - image[at + width];
                weights[k] = (i * i + j * j) * expScale;
                k++;
            }
        }
        Span<float> w = weights.AsSpan(0, k), gx = xs.AsSpan(0, k), gy = ys.AsSpan(0, k), angle = angles.AsSpan(0, k);
        System.Numerics.Tensors.TensorPrimitives.Exp(w, w);
        FastAtan.Degrees(gy, gx, angle);
        // Magnitudes overwrite the x gradients, as OpenCV's buffer does.
        System.Numerics.Tensors.TensorPrimitives.Multiply(gx, gx, gx);
        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(gy, gy, gx, gx);
        System.Numerics.Tensors.TensorPrimitives.Sqrt(gx, gx);

        const int n = OrientationBins;
        Span<float> raw = stackalloc float[n + 4];
        raw.Clear();
        for (int i = 0; i < k; i++)
        {
            int bin = (int)MathF.Round(n / 360f * angle[i], MidpointRounding.ToEven);
            if (bin >= n) bin -= n;
            if (bin < 0) bin += n;
            raw[bin + 2] += w[i] * gx[i];
        }
        raw[1] = raw[n + 1];
        raw[0] = raw[n];
        raw[n + 2] = raw[2];
        raw[n + 3] = raw[3];
        // OpenCV's AVX2 and AVX-512 builds smooth bins 0 … 31 with fused multiply-adds and the last four in plain float.
        float peak = float.MinValue;
        for (int i = 0; i < n; i++)
        {
            histogram[i] = i < 32
                ? MathF.FusedMultiplyAdd(raw[i] + raw[i + 4], 1f / 16f, MathF.FusedMultiplyAdd(raw[i + 1] + raw[i + 3], 4f / 16f, raw[i + 2] * (6f / 16f)))
                : (raw[i] + raw[i + 4]) * (1f / 16f) + (raw[i + 1] + raw[i + 3]) * (4f / 16f) + raw[i + 2] * (6f / 16f);
            peak = Math.Max(peak, histogram[i]);
        }
        return peak;
    }
}
