using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace DeepRetrieval.Imaging.Features;

/// <summary>
/// Robust fitting of a homography or affine transform to point correspondences by RANSAC (Fischler &amp; Bolles 1981)
/// with adaptive stopping, degenerate-sample rejection, MSAC scoring and a least-squares refit on the inliers. It is
/// the spatial verification of instance retrieval (Philbin et al., CVPR 2007): the inlier count of the best transform
/// between a query and a candidate tells a true match from an accidental bag-of-words similarity. Runs are
/// deterministic for a given <see cref="RansacOptions.Seed"/>.
/// </summary>
public static class Ransac
{
    /// <summary>Fits a transform mapping <paramref name="source"/>[i] to <paramref name="destination"/>[i].</summary>
    /// <param name="source">Points in the first image.</param>
    /// <param name="destination">Corresponding points in the second image; same count.</param>
    /// <param name="options">Model, threshold, iterations, confidence and seed; null for defaults.</param>
    /// <returns>The best model and its inliers; <see cref="GeometricVerification.Success"/> is false when there are fewer correspondences than a sample needs.</returns>
    /// <exception cref="ArgumentException">The counts differ, a coordinate is not finite, or an option is out of range.</exception>
    public static GeometricVerification Fit(ReadOnlySpan<Vector2> source, ReadOnlySpan<Vector2> destination, RansacOptions? options = null)
    {
        options ??= new RansacOptions();
        CheckOptions(options);
        CheckPoints(source, destination);
        return new Fitter(source.ToArray(), destination.ToArray(), options).Run();
    }

    /// <summary>Fits a transform from the query keypoints to the train keypoints of the given matches.</summary>
    /// <param name="query">Features of the first image.</param>
    /// <param name="train">Features of the second image.</param>
    /// <param name="matches">Correspondences (from <see cref="DescriptorMatcher"/> or shared visual words).</param>
    /// <param name="options">Model, threshold, iterations, confidence and seed; null for defaults.</param>
    /// <exception cref="ArgumentException">A match refers to a keypoint that does not exist, or an option is out of range.</exception>
    public static GeometricVerification Fit(LocalFeatures query, LocalFeatures train, ReadOnlySpan<FeatureMatch> matches, RansacOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(train);
        return Fit(query.Keypoints, train.Keypoints, matches, options);
    }

    /// <summary>Fits a transform from the first keypoints to the second keypoints of the given matches.</summary>
    /// <param name="first">Keypoints of the first image (the matches' query side).</param>
    /// <param name="second">Keypoints of the second image (the matches' train side).</param>
    /// <param name="matches">Correspondences by keypoint index.</param>
    /// <param name="options">Model, threshold, iterations, confidence and seed; null for defaults.</param>
    /// <exception cref="ArgumentException">A match refers to a keypoint that does not exist, or an option is out of range.</exception>
    public static GeometricVerification Fit(ReadOnlySpan<Keypoint> first, ReadOnlySpan<Keypoint> second, ReadOnlySpan<FeatureMatch> matches, RansacOptions? options = null)
    {
        var source = new Vector2[matches.Length];
        var destination = new Vector2[matches.Length];
        for (int i = 0; i < matches.Length; i++)
        {
            FeatureMatch m = matches[i];
            if ((uint)m.QueryIndex >= (uint)first.Length || (uint)m.TrainIndex >= (uint)second.Length)
                throw new ArgumentException($"Match {i} refers to keypoints {m.QueryIndex} and {m.TrainIndex}, outside {first.Length} and {second.Length} keypoints.", nameof(matches));
            source[i] = new Vector2(first[m.QueryIndex].X, first[m.QueryIndex].Y);
            destination[i] = new Vector2(second[m.TrainIndex].X, second[m.TrainIndex].Y);
        }
        return Fit(source, destination, options);
    }

    /// <summary>
    /// The least-squares transform through all correspondences, without outlier rejection (OpenCV's
    /// <c>findHomography(…, 0)</c>): normalised DLT for a homography, linear least squares for an affine transform.
    /// </summary>
    /// <param name="source">Points in the first image.</param>
    /// <param name="destination">Corresponding points in the second image; same count, at least 4 (homography) or 3 (affine).</param>
    /// <param name="model">The transform to fit.</param>
    /// <returns>The transform, or null when the points are degenerate (for example all collinear).</returns>
    /// <exception cref="ArgumentException">The counts differ, are too small, or a coordinate is not finite.</exception>
    public static Homography? FitLeastSquares(ReadOnlySpan<Vector2> source, ReadOnlySpan<Vector2> destination, GeometricModel model = GeometricModel.Homography)
    {
        CheckPoints(source, destination);
        if (!Enum.IsDefined(model)) throw new ArgumentOutOfRangeException(nameof(model), model, "Unknown model.");
        int needed = SampleSize(model);
        if (source.Length < needed)
            throw new ArgumentException($"A {model} needs at least {needed} correspondences; got {source.Length}.", nameof(source));
        int[] all = Enumerable.Range(0, source.Length).ToArray();
        Vector2[] s = source.ToArray(), d = destination.ToArray();
        if (Collinear(s) || Collinear(d)) return null;
        return model == GeometricModel.Homography ? HomographyLeastSquares(s, d, all) : AffineLeastSquares(s, d, all);
    }

    internal static int SampleSize(GeometricModel model) => model == GeometricModel.Homography ? 4 : 3;

    private static void CheckPoints(ReadOnlySpan<Vector2> source, ReadOnlySpan<Vector2> destination)
    {
        if (source.Length != destination.Length)
            throw new ArgumentException($"Got {source.Length} source points but {destination.Length} destination points.", nameof(destination));
        for (int i = 0; i < source.Length; i++)
        {
            if (!float.IsFinite(source[i].X) || !float.IsFinite(source[i].Y) || !float.IsFinite(destination[i].X) || !float.IsFinite(destination[i].Y))
                throw new ArgumentException($"Correspondence {i} has a non-finite coordinate.", nameof(source));
        }
    }

    private static void CheckOptions(RansacOptions options)
    {
        if (!Enum.IsDefined(options.Model))
            throw new ArgumentOutOfRangeException(nameof(options), options.Model, "Unknown model.");
        if (!(options.ReprojectionThreshold > 0) || double.IsInfinity(options.ReprojectionThreshold))
            throw new ArgumentOutOfRangeException(nameof(options), options.ReprojectionThreshold, "ReprojectionThreshold must be positive and finite.");
        if (options.MaxIterations <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxIterations, "MaxIterations must be positive.");
        if (!(options.Confidence > 0 && options.Confidence < 1))
            throw new ArgumentOutOfRangeException(nameof(options), options.Confidence, "Confidence must be in (0, 1).");
    }

    private sealed class Fitter(Vector2[] source, Vector2[] destination, RansacOptions options)
    {
        private readonly double _threshold2 = options.ReprojectionThreshold * options.ReprojectionThreshold;

        public GeometricVerification Run()
        {
            int n = source.Length, size = SampleSize(options.Model);
            if (n < size) return GeometricVerification.Failed(n, 0);
            var random = new SplitMix(options.Seed);
            Span<int> sample = stackalloc int[size];
            Homography best = Homography.Identity;
            int bestCount = -1;
            double bestScore = double.NegativeInfinity;
            long limit = options.MaxIterations;
            int iterations = 0;
            while (iterations < limit)
            {
                iterations++;
                Draw(ref random, n, sample);
                Homography? model = options.Model == GeometricModel.Homography ? HomographyFromSample(sample) : AffineFromSample(sample);
                if (model is not Homography candidate) continue;
                (int count, double score) = Evaluate(candidate, null);
                if (count > bestCount || (count == bestCount && score > bestScore))
                {
                    (best, bestCount, bestScore) = (candidate, count, score);
                    limit = Math.Min(limit, RequiredIterations(bestCount, n, size));
                }
            }
            if (bestCount < size) return GeometricVerification.Failed(n, iterations);

            var inliers = new bool[n];
            Evaluate(best, inliers);
            if (options.Refine)
            {
                for (int round = 0; round < 3; round++)
                {
                    int[] chosen = Enumerable.Range(0, n).Where(i => inliers[i]).ToArray();
                    Homography? refit = options.Model == GeometricModel.Homography
                        ? HomographyLeastSquares(source, destination, chosen)
                        : AffineLeastSquares(source, destination, chosen);
                    if (refit is not Homography better) break;
                    var refitInliers = new bool[n];
                    (int count, double score) = Evaluate(better, refitInliers);
                    if (count < bestCount || (count == bestCount && score <= bestScore)) break;
                    (best, bestCount, bestScore, inliers) = (better, count, score, refitInliers);
                }
            }
            return new GeometricVerification(true, best.Normalized(), inliers, bestCount, bestScore, iterations);
        }

        // Inlier count and MSAC score of a model; fills the inlier flags when asked.
        private (int Count, double Score) Evaluate(Homography h, bool[]? inliers)
        {
            int count = 0;
            double score = 0;
            for (int i = 0; i < source.Length; i++)
            {
                (double x, double y) = h.Transform(source[i].X, source[i].Y);
                double dx = x - destination[i].X, dy = y - destination[i].Y, e2 = dx * dx + dy * dy;
                bool inlier = e2 < _threshold2;
                if (inlier)
                {
                    count++;
                    score += 1 - e2 / _threshold2;
                }
                if (inliers is not null) inliers[i] = inlier;
            }
            return (count, score);
        }

        // k = log(1 − confidence) / log(1 − wˢ), the samples needed to draw one all-inlier sample with that confidence.
        private long RequiredIterations(int inlierCount, int n, int size)
        {
            double w = (double)inlierCount / n;
            double allInlier = Math.Pow(w, size);
            if (allInlier >= 1) return 0;
            if (allInlier <= 0) return long.MaxValue;
            double k = Math.Log(1 - options.Confidence) / Math.Log(1 - allInlier);
            return double.IsFinite(k) ? (long)Math.Ceiling(k) : long.MaxValue;
        }

        private static void Draw(ref SplitMix random, int n, Span<int> sample)
        {
            for (int i = 0; i < sample.Length; i++)
            {
                int candidate;
                do
                {
                    candidate = random.Next(n);
                } while (sample[..i].Contains(candidate));
                sample[i] = candidate;
            }
        }

        private Homography? HomographyFromSample(ReadOnlySpan<int> sample)
        {
            // Reject samples with three collinear points, or whose point order flips between the images (the
            // homography would fold the plane): OpenCV's checkSubset test, on all four triangles.
            ReadOnlySpan<(int, int, int)> triangles = [(0, 1, 2), (1, 2, 3), (0, 2, 3), (0, 1, 3)];
            foreach (var (a, b, c) in triangles)
            {
                double s = Cross(source[sample[a]], source[sample[b]], source[sample[c]]);
                double d = Cross(destination[sample[a]], destination[sample[b]], destination[sample[c]]);
                if (Math.Abs(s) < 1e-6 || Math.Abs(d) < 1e-6 || Math.Sign(s) != Math.Sign(d)) return null;
            }
            return HomographyFromFour(sample);
        }

        private Homography? AffineFromSample(ReadOnlySpan<int> sample)
        {
            double s = Cross(source[sample[0]], source[sample[1]], source[sample[2]]);
            double d = Cross(destination[sample[0]], destination[sample[1]], destination[sample[2]]);
            if (Math.Abs(s) < 1e-6 || Math.Abs(d) < 1e-6) return null;
            return AffineLeastSquares(source, destination, sample.ToArray());
        }

        // The exact homography through four correspondences: the 8 × 8 system with M33 = 1, in coordinates
        // normalised around the sample's centroid, solved by Gaussian elimination with partial pivoting.
        private Homography? HomographyFromFour(ReadOnlySpan<int> sample)
        {
            Span<double> a = stackalloc double[8 * 9];
            Normalisation ns = Normalisation.Of(source, sample), nd = Normalisation.Of(destination, sample);
            for (int i = 0; i < 4; i++)
            {
                (double x, double y) = ns.Apply(source[sample[i]]);
                (double u, double v) = nd.Apply(destination[sample[i]]);
                Span<double> r0 = a.Slice(2 * i * 9, 9), r1 = a.Slice((2 * i + 1) * 9, 9);
                r0[0] = x; r0[1] = y; r0[2] = 1; r0[3] = 0; r0[4] = 0; r0[5] = 0; r0[6] = -u * x; r0[7] = -u * y; r0[8] = u;
                r1[0] = 0; r1[1] = 0; r1[2] = 0; r1[3] = x; r1[4] = y; r1[5] = 1; r1[6] = -v * x; r1[7] = -v * y; r1[8] = v;
            }
            Span<double> h = stackalloc double[8];
            if (!SolveAugmented(a, 8, h)) return null;
            var normalised = new Homography(h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1);
            return Denormalise(normalised, ns, nd);
        }
    }

    // True when all points lie on one line (or coincide): the smaller eigenvalue of their 2 × 2 scatter matrix is
    // negligible next to the larger.
    private static bool Collinear(Vector2[] points)
    {
        double mx = points.Average(p => (double)p.X), my = points.Average(p => (double)p.Y);
        double sxx = 0, sxy = 0, syy = 0;
        foreach (Vector2 p in points)
        {
            double dx = p.X - mx, dy = p.Y - my;
            sxx += dx * dx;
            sxy += dx * dy;
            syy += dy * dy;
        }
        double trace = sxx + syy, determinant = sxx * syy - sxy * sxy;
        double smaller = trace / 2 - Math.Sqrt(Math.Max(0, trace * trace / 4 - determinant));
        return !(smaller > 1e-9 * trace);
    }

    private static double Cross(Vector2 a, Vector2 b, Vector2 c) =>
        ((double)b.X - a.X) * ((double)c.Y - a.Y) - ((double)b.Y - a.Y) * ((double)c.X - a.X);

    // Gaussian elimination with partial pivoting on an n × (n + 1) augmented matrix.
    private static bool SolveAugmented(Span<double> a, int n, Span<double> x)
    {
        int stride = n + 1;
        for (int col = 0; col < n; col++)
        {
            int pivot = col;
            for (int r = col + 1; r < n; r++)
                if (Math.Abs(a[r * stride + col]) > Math.Abs(a[pivot * stride + col])) pivot = r;
            if (Math.Abs(a[pivot * stride + col]) < 1e-12) return false;
            if (pivot != col)
                for (int c = 0; c < stride; c++) (a[col * stride + c], a[pivot * stride + c]) = (a[pivot * stride + c], a[col * stride + c]);
            for (int r = col + 1; r < n; r++)
            {
                double f = a[r * stride + col] / a[col * stride + col];
                if (f == 0) continue;
                for (int c = col; c < stride; c++) a[r * stride + c] -= f * a[col * stride + c];
            }
        }
        for (int r = n - 1; r >= 0; r--)
        {
            double sum = a[r * stride + n];
            for (int c = r + 1; c < n; c++) sum -= a[r * stride + c] * x[c];
            x[r] = sum / a[r * stride + r];
        }
        foreach (double v in x)
        {
            if (!double.IsFinite(v)) return false;
        }
        return true;
    }

    // Hartley's normalised DLT: the right singular vector of the smallest singular value of the 2n × 9 design
    // matrix, taken as the eigenvector of AᵀA for its smallest eigenvalue.
    private static Homography? HomographyLeastSquares(Vector2[] source, Vector2[] destination, int[] chosen)
    {
        if (chosen.Length < 4) return null;
        Normalisation ns = Normalisation.Of(source, chosen), nd = Normalisation.Of(destination, chosen);
        var ata = Matrix<double>.Build.Dense(9, 9);
        Span<double> r0 = stackalloc double[9], r1 = stackalloc double[9];
        foreach (int i in chosen)
        {
            (double x, double y) = ns.Apply(source[i]);
            (double u, double v) = nd.Apply(destination[i]);
            r0[0] = x; r0[1] = y; r0[2] = 1; r0[3] = 0; r0[4] = 0; r0[5] = 0; r0[6] = -u * x; r0[7] = -u * y; r0[8] = -u;
            r1[0] = 0; r1[1] = 0; r1[2] = 0; r1[3] = x; r1[4] = y; r1[5] = 1; r1[6] = -v * x; r1[7] = -v * y; r1[8] = -v;
            for (int p = 0; p < 9; p++)
                for (int q = p; q < 9; q++)
                    ata[p, q] += r0[p] * r0[q] + r1[p] * r1[q];
        }
        for (int p = 0; p < 9; p++)
            for (int q = 0; q < p; q++)
                ata[p, q] = ata[q, p];
        var evd = ata.Evd(MathNet.Numerics.LinearAlgebra.Symmetricity.Symmetric);
        int smallest = 0;
        for (int i = 1; i < 9; i++)
            if (evd.EigenValues[i].Real < evd.EigenValues[smallest].Real) smallest = i;
        MathNet.Numerics.LinearAlgebra.Vector<double> h = evd.EigenVectors.Column(smallest);
        var normalised = new Homography(h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8]);
        if (Math.Abs(normalised.Determinant) < 1e-12) return null;
        return Denormalise(normalised, ns, nd);
    }

    // Linear least squares for x' = a x + b y + c and y' = d x + e y + f (two 3 × 3 normal-equation systems), in
    // normalised coordinates.
    private static Homography? AffineLeastSquares(Vector2[] source, Vector2[] destination, int[] chosen)
    {
        if (chosen.Length < 3) return null;
        Normalisation ns = Normalisation.Of(source, chosen), nd = Normalisation.Of(destination, chosen);
        // Two augmented systems [RᵀR | Rᵀu] and [RᵀR | Rᵀv] over the rows r = (x, y, 1).
        Span<double> forU = stackalloc double[12], forV = stackalloc double[12];
        forU.Clear();
        forV.Clear();
        Span<double> row = stackalloc double[3];
        foreach (int i in chosen)
        {
            (row[0], row[1]) = ns.Apply(source[i]);
            row[2] = 1;
            (double u, double v) = nd.Apply(destination[i]);
            for (int p = 0; p < 3; p++)
            {
                for (int q = 0; q < 3; q++)
                {
                    forU[p * 4 + q] += row[p] * row[q];
                    forV[p * 4 + q] += row[p] * row[q];
                }
                forU[p * 4 + 3] += row[p] * u;
                forV[p * 4 + 3] += row[p] * v;
            }
        }
        Span<double> first = stackalloc double[3], second = stackalloc double[3];
        if (!SolveAugmented(forU, 3, first) || !SolveAugmented(forV, 3, second)) return null;
        var normalised = Homography.Affine(first[0], first[1], first[2], second[0], second[1], second[2]);
        return Denormalise(normalised, ns, nd);
    }

    // H = T_d⁻¹ · H_n · T_s.
    private static Homography Denormalise(Homography normalised, Normalisation source, Normalisation destination) =>
        (destination.Inverse * normalised * source.Forward).Normalized();

    // Hartley's normalisation: translate the centroid to the origin and scale the mean distance to √2.
    private readonly record struct Normalisation(double Cx, double Cy, double Scale)
    {
        public static Normalisation Of(Vector2[] points, ReadOnlySpan<int> chosen)
        {
            double cx = 0, cy = 0;
            foreach (int i in chosen)
            {
                cx += points[i].X;
                cy += points[i].Y;
            }
            cx /= chosen.Length;
            cy /= chosen.Length;
            double mean = 0;
            foreach (int i in chosen) mean += Math.Sqrt((points[i].X - cx) * (points[i].X - cx) + (points[i].Y - cy) * (points[i].Y - cy));
            mean /= chosen.Length;
            return new Normalisation(cx, cy, mean > 1e-12 ? Math.Sqrt(2) / mean : 1);
        }

        public (double U, double V) Apply(Vector2 p) => ((p.X - Cx) * Scale, (p.Y - Cy) * Scale);

        public Homography Forward => new(Scale, 0, -Cx * Scale, 0, Scale, -Cy * Scale, 0, 0, 1);

        public Homography Inverse => new(1 / Scale, 0, Cx, 0, 1 / Scale, Cy, 0, 0, 1);
    }

    // SplitMix64 (Steele, Lea &amp; Flood 2014): a small, fast generator whose sequence depends only on the seed.
    private struct SplitMix(int seed)
    {
        private ulong _state = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL + 0x632BE59BD9B4E019UL;

        public int Next(int bound)
        {
            ulong z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            return (int)((z >> 33) % (ulong)bound);
        }
    }
}
