namespace DeepRetrieval.Imaging.Features;

/// <summary>
/// The repeatability and matching-score protocol of Mikolajczyk et al. ("A comparison of affine region detectors",
/// IJCV 2005; "A performance evaluation of local descriptors", PAMI 2005) for image pairs related by a known
/// homography. Regions are circles of radius size / 2; a region of image 2 maps into image 1 as an ellipse (the
/// homography linearised at its centre). Only regions inside both images count. Two regions correspond when their
/// overlap error, measured after scaling the pair so the first region has radius 30, is below 40%; correspondences are
/// made one-to-one greedily by overlap. The matching score counts nearest-neighbour descriptor matches (one-to-one,
/// greedy by distance) that are also correspondences by overlap.
/// </summary>
public static class FeatureEvaluation
{
    /// <summary>Evaluates the features of two images.</summary>
    /// <param name="first">Keypoints (and descriptors, for the matching score) of image 1.</param>
    /// <param name="firstSize">Width and height of image 1.</param>
    /// <param name="second">Keypoints (and descriptors) of image 2.</param>
    /// <param name="secondSize">Width and height of image 2.</param>
    /// <param name="firstToSecond">The homography mapping image 1 onto image 2.</param>
    /// <param name="options">Overlap threshold, normalised radius and region scale; null for the protocol's values.</param>
    /// <exception cref="ArgumentException">An image size is not positive, the descriptor lengths differ, or an option is out of range.</exception>
    /// <exception cref="InvalidOperationException">The homography is singular.</exception>
    public static RepeatabilityResult Evaluate(LocalFeatures first, (int Width, int Height) firstSize, LocalFeatures second, (int Width, int Height) secondSize,
        Homography firstToSecond, RepeatabilityOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        options ??= new RepeatabilityOptions();
        if (!(options.MaxOverlapError > 0 && options.MaxOverlapError < 1))
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxOverlapError, "MaxOverlapError must be in (0, 1).");
        if (!(options.NormalizedRadius > 0) || !(options.RegionScale > 0))
            throw new ArgumentOutOfRangeException(nameof(options), "NormalizedRadius and RegionScale must be positive.");
        if (firstSize.Width <= 0 || firstSize.Height <= 0 || secondSize.Width <= 0 || secondSize.Height <= 0)
            throw new ArgumentException("Image sizes must be positive.", nameof(firstSize));
        if (first.DescriptorLength != second.DescriptorLength)
            throw new ArgumentException($"Descriptor lengths differ: {first.DescriptorLength} and {second.DescriptorLength}.", nameof(second));
        Homography secondToFirst = firstToSecond.Inverse();

        // Regions of both images, all expressed in image 1: kept when they fit in their own image and their mapping fits in the other.
        var regions1 = new List<(Ellipse Region, int Index)>();
        for (int i = 0; i < first.Count; i++)
        {
            Ellipse own = Ellipse.Circle(first.Keypoints[i], options.RegionScale);
            if (own.Inside(firstSize) && own.Map(firstToSecond).Inside(secondSize)) regions1.Add((own, i));
        }
        var regions2 = new List<(Ellipse Region, int Index)>();
        for (int j = 0; j < second.Count; j++)
        {
            Ellipse own = Ellipse.Circle(second.Keypoints[j], options.RegionScale);
            Ellipse mapped = own.Map(secondToFirst);
            if (own.Inside(secondSize) && mapped.Inside(firstSize)) regions2.Add((mapped, j));
        }
        int minimum = Math.Min(regions1.Count, regions2.Count);
        if (minimum == 0) return new RepeatabilityResult(regions1.Count, regions2.Count, 0, 0, 0, 0);

        // Overlap of every nearby pair (centres within four radii of the first region).
        double minOverlap = 1 - options.MaxOverlapError;
        var overlapping = new Dictionary<(int, int), double>();
        var candidates = new List<(double Overlap, int A, int B)>();
        for (int a = 0; a < regions1.Count; a++)
        {
            Ellipse r1 = regions1[a].Region;
            double radius = r1.Radius, reach = 4 * radius;
            double factor = options.NormalizedRadius / radius;
            for (int b = 0; b < regions2.Count; b++)
            {
                Ellipse r2 = regions2[b].Region;
                double dx = r2.X - r1.X, dy = r2.Y - r1.Y;
                if (dx * dx + dy * dy >= reach * reach) continue;
                double overlap = Ellipse.Overlap(r1, r2, factor);
                if (overlap >= minOverlap)
                {
                    overlapping[(a, b)] = overlap;
                    candidates.Add((overlap, a, b));
                }
            }
        }
        int correspondences = GreedyOneToOne(candidates.OrderByDescending(c => c.Overlap).ThenBy(c => c.A).ThenBy(c => c.B));

        int correct = 0;
        if (first.DescriptorLength > 0 && first.Descriptors.Length > 0 && second.Descriptors.Length > 0)
        {
            var pairs = new List<(double Distance, int A, int B)>(regions1.Count * regions2.Count);
            for (int a = 0; a < regions1.Count; a++)
            {
                ReadOnlySpan<float> da = first.Descriptor(regions1[a].Index);
                for (int b = 0; b < regions2.Count; b++)
                    pairs.Add((System.Numerics.Tensors.TensorPrimitives.Distance(da, second.Descriptor(regions2[b].Index)), a, b));
            }
            var usedA = new bool[regions1.Count];
            var usedB = new bool[regions2.Count];
            foreach (var (_, a, b) in pairs.OrderBy(p => p.Distance).ThenBy(p => p.A).ThenBy(p => p.B))
            {
                if (usedA[a] || usedB[b]) continue;
                usedA[a] = usedB[b] = true;
                if (overlapping.ContainsKey((a, b))) correct++;
            }
        }
        return new RepeatabilityResult(regions1.Count, regions2.Count, correspondences, (double)correspondences / minimum, correct, (double)correct / minimum);
    }

    private static int GreedyOneToOne(IEnumerable<(double Overlap, int A, int B)> ordered)
    {
        var usedA = new HashSet<int>();
        var usedB = new HashSet<int>();
        int count = 0;
        foreach (var (_, a, b) in ordered)
        {
            if (usedA.Contains(a) || usedB.Contains(b)) continue;
            usedA.Add(a);
            usedB.Add(b);
            count++;
        }
        return count;
    }

    // An ellipse a x² + 2 b x y + c y² = 1 around (X, Y).
    private readonly record struct Ellipse(double X, double Y, double A, double B, double C)
    {
        public static Ellipse Circle(Keypoint k, double scale)
        {
            double r = k.Size / 2 * scale, f = 1 / (r * r);
            return new Ellipse(k.X, k.Y, f, 0, f);
        }

        // Geometric mean of the half axes: √(1 / √(ac − b²)).
        public double Radius => Math.Sqrt(1 / Math.Sqrt(A * C - B * B));

        // Half sizes of the axis-aligned bounding box.
        private (double HalfWidth, double HalfHeight) Box
        {
            get
            {
                double det = A * C - B * B;
                return (Math.Sqrt(C / det), Math.Sqrt(A / det));
            }
        }

        public bool Inside((int Width, int Height) size)
        {
            (double hw, double hh) = Box;
            return X - hw > 0 && X + hw < size.Width && Y - hh > 0 && Y + hh < size.Height;
        }

        // The image of the ellipse under h, with h linearised (Jacobian J) at the centre: M' = (J M⁻¹ Jᵀ)⁻¹.
        public Ellipse Map(Homography h)
        {
            (double cx, double cy) = h.Transform(X, Y);
            (double ja, double jb, double jc, double jd) = h.Jacobian(X, Y);
            double det = A * C - B * B;
            double ia = C / det, ib = -B / det, ic = A / det; // M⁻¹
            // S = J M⁻¹ Jᵀ
            double s00 = ja * (ia * ja + ib * jb) + jb * (ib * ja + ic * jb);
            double s01 = ja * (ia * jc + ib * jd) + jb * (ib * jc + ic * jd);
            double s11 = jc * (ia * jc + ib * jd) + jd * (ib * jc + ic * jd);
            double sdet = s00 * s11 - s01 * s01;
            return new Ellipse(cx, cy, s11 / sdet, -s01 / sdet, s00 / sdet);
        }

        // |A ∩ B| / |A ∪ B| after scaling both by factor about A's centre, counted on a grid of 50 steps across the
        // smaller side of the joint bounding box, as Mikolajczyk's and OpenCV's implementations do.
        public static double Overlap(Ellipse first, Ellipse second, double factor)
        {
            double f2 = 1 / (factor * factor);
            var e1 = new Ellipse(0, 0, first.A * f2, first.B * f2, first.C * f2);
            double dx = (second.X - first.X) * factor, dy = (second.Y - first.Y) * factor;
            var e2 = new Ellipse(dx, dy, second.A * f2, second.B * f2, second.C * f2);
            (double w1, double h1) = e1.Box;
            (double w2, double h2) = e2.Box;
            double maxX = Math.Ceiling(Math.Max(w1, dx + w2)), minX = Math.Floor(Math.Min(-w1, dx - w2));
            double maxY = Math.Ceiling(Math.Max(h1, dy + h2)), minY = Math.Floor(Math.Min(-h1, dy - h2));
            double step = Math.Min(maxX - minX, maxY - minY) / 50;
            if (!(step > 0)) return 0;
            long union = 0, intersection = 0;
            for (double x = minX; x <= maxX; x += step)
            {
                double x2 = x - dx;
                for (double y = minY; y <= maxY; y += step)
                {
                    double y2 = y - dy;
                    bool in1 = e1.A * x * x + 2 * e1.B * x * y + e1.C * y * y < 1;
                    bool in2 = e2.A * x2 * x2 + 2 * e2.B * x2 * y2 + e2.C * y2 * y2 < 1;
                    if (in1 && in2) intersection++;
                    if (in1 || in2) union++;
                }
            }
            return union == 0 ? 0 : (double)intersection / union;
        }
    }
}
