using DeepRetrieval.Imaging.Features;

namespace DeepRetrieval.ClassicalBench;

/// <summary>
/// Our SIFT against OpenCV 4.6's on every image of the set (keypoint agreement, descriptor distance), and Mikolajczyk's
/// repeatability and matching score of both under the known homographies, evaluated by the same protocol code.
/// </summary>
internal static class AgreementBench
{
    public static void Run(BenchData data)
    {
        var sift = new Sift();
        string[] images = [.. data.Database, .. data.Queries.Select(q => q.Name)];
        long opencvTotal = 0, oursTotal = 0, within = 0, reverse = 0, exact = 0;
        double descriptorSum = 0;
        long descriptorCount = 0, identicalDescriptors = 0;
        var ours = new Dictionary<string, LocalFeatures>();
        foreach (string name in images)
        {
            BenchData.Image image = data.Read(name);
            LocalFeatures mine = sift.DetectAndCompute(image.Pixels, image.Width, image.Height);
            LocalFeatures theirs = data.OpenCv(name);
            ours[name] = mine;
            opencvTotal += theirs.Count;
            oursTotal += mine.Count;
            var grid = new KeypointGrid(mine.Keypoints);
            foreach (var (index, k) in theirs.Keypoints.Select((k, i) => (i, k)))
            {
                int match = grid.Closest(k);
                if (match < 0) continue;
                within++;
                Keypoint o = mine.Keypoints[match];
                if (Math.Abs(o.X - k.X) < 1e-3 && Math.Abs(o.Y - k.Y) < 1e-3 && (o.Octave & 0xFFFF) == (k.Octave & 0xFFFF)) exact++;
                if (Math.Abs((o.Angle - k.Angle + 540) % 360 - 180) < 1)
                {
                    descriptorSum += System.Numerics.Tensors.TensorPrimitives.Distance(mine.Descriptor(match), theirs.Descriptor(index));
                    descriptorCount++;
                    if (mine.Descriptor(match).SequenceEqual(theirs.Descriptor(index))) identicalDescriptors++;
                }
            }
            var theirGrid = new KeypointGrid(theirs.Keypoints);
            reverse += mine.Keypoints.Count(k => theirGrid.Closest(k) >= 0);
        }
        Console.WriteLine($"## SIFT agreement with OpenCV 4.6 ({images.Length} images: {data.Database.Length} photos at 640 px and {data.Queries.Length} synthetic views)");
        Console.WriteLine($"keypoints: OpenCV {opencvTotal}, ours {oursTotal} ({(double)oursTotal / opencvTotal:P2} of OpenCV's)");
        Console.WriteLine($"OpenCV keypoints with one of ours within 1 px and 10% size: {(double)within / opencvTotal:P2}");
        Console.WriteLine($"our keypoints with one of OpenCV's within 1 px and 10% size: {(double)reverse / oursTotal:P2}");
        Console.WriteLine($"identical position (1e-3 px) and octave/layer: {(double)exact / opencvTotal:P2}");
        Console.WriteLine($"mean L2 distance between descriptors of agreeing keypoints (angle within 1°, components 0..255): {descriptorSum / descriptorCount:F4} over {descriptorCount} pairs; identical descriptors: {(double)identicalDescriptors / descriptorCount:P2}");

        Console.WriteLine();
        Console.WriteLine("## Repeatability and matching score under known homographies (Mikolajczyk's protocol, overlap error < 40%, radius normalised to 30 px)");
        Console.WriteLine("| view | pairs | repeatability OpenCV | repeatability ours | matching score OpenCV | matching score ours |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        string[] viewNames = ["rotation + zoom out", "perspective", "zoom out 0.5 + rotation + contrast + JPEG 60", "zoom out 0.35 + oblique + blur + noise"];
        var all = new List<(RepeatabilityResult Ours, RepeatabilityResult OpenCv)>();
        foreach (var group in data.Queries.GroupBy(q => q.View).OrderBy(g => g.Key))
        {
            var results = group.Select(q =>
            {
                BenchData.Image a = data.Read(q.Database), b = data.Read(q.Name);
                RepeatabilityResult mine = FeatureEvaluation.Evaluate(ours[q.Database], (a.Width, a.Height), ours[q.Name], (b.Width, b.Height), q.DatabaseToQuery);
                RepeatabilityResult theirs = FeatureEvaluation.Evaluate(data.OpenCv(q.Database), (a.Width, a.Height), data.OpenCv(q.Name), (b.Width, b.Height), q.DatabaseToQuery);
                return (mine, theirs);
            }).ToList();
            all.AddRange(results);
            Print(viewNames[group.Key], results);
        }
        Print("all", all);
    }

    private static void Print(string label, List<(RepeatabilityResult Ours, RepeatabilityResult OpenCv)> results) =>
        Console.WriteLine($"| {label} | {results.Count} | {results.Average(r => r.OpenCv.Repeatability):F4} | {results.Average(r => r.Ours.Repeatability):F4} | " +
                          $"{results.Average(r => r.OpenCv.MatchingScore):F4} | {results.Average(r => r.Ours.MatchingScore):F4} |");

    // Keypoints bucketed by whole pixel, to find a keypoint within 1 px and 10% size quickly.
    private sealed class KeypointGrid
    {
        private readonly Keypoint[] _keypoints;
        private readonly Dictionary<(int, int), List<int>> _cells = [];

        public KeypointGrid(Keypoint[] keypoints)
        {
            _keypoints = keypoints;
            for (int i = 0; i < keypoints.Length; i++)
            {
                var key = ((int)MathF.Floor(keypoints[i].X), (int)MathF.Floor(keypoints[i].Y));
                if (!_cells.TryGetValue(key, out var list)) _cells[key] = list = [];
                list.Add(i);
            }
        }

        public int Closest(Keypoint k)
        {
            int best = -1;
            double bestAngle = double.MaxValue;
            int cx = (int)MathF.Floor(k.X), cy = (int)MathF.Floor(k.Y);
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++)
                {
                    if (!_cells.TryGetValue((cx + dx, cy + dy), out var list)) continue;
                    foreach (int i in list)
                    {
                        Keypoint o = _keypoints[i];
                        double ex = o.X - k.X, ey = o.Y - k.Y;
                        if (ex * ex + ey * ey > 1 || Math.Abs(o.Size - k.Size) > 0.1 * k.Size) continue;
                        double angle = Math.Abs((o.Angle - k.Angle + 540) % 360 - 180);
                        if (angle < bestAngle) (best, bestAngle) = (i, angle);
                    }
                }
            return best;
        }
    }
}
