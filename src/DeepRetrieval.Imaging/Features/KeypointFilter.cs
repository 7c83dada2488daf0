namespace DeepRetrieval.Imaging.Features;

/// <summary>OpenCV's <c>KeyPointsFilter</c> steps that SIFT applies after detection.</summary>
internal static class KeypointFilter
{
    /// <summary>
    /// <c>removeDuplicatedSorted</c>: sorts by x, then y, then decreasing size, then angle, then decreasing response,
    /// then decreasing octave (OpenCV's <c>KeyPoint_LessThan</c>), and drops keypoints equal to the previous one in x, y,
    /// size and angle.
    /// </summary>
    public static Keypoint[] RemoveDuplicatesSorted(Keypoint[] keypoints)
    {
        if (keypoints.Length < 2) return keypoints;
        Array.Sort(keypoints, Compare);
        int kept = 0;
        for (int j = 1; j < keypoints.Length; j++)
        {
            Keypoint a = keypoints[kept], b = keypoints[j];
            if (a.X != b.X || a.Y != b.Y || a.Size != b.Size || a.Angle != b.Angle)
                keypoints[++kept] = b;
        }
        return keypoints.AsSpan(0, kept + 1).ToArray();
    }

    /// <summary>
    /// <c>retainBest</c>: keeps every keypoint whose response is at least the <paramref name="count"/>-th largest, so ties
    /// at the boundary are all kept. The kept keypoints stay in their input order.
    /// </summary>
    public static Keypoint[] RetainBest(Keypoint[] keypoints, int count)
    {
        if (count <= 0 || keypoints.Length <= count) return keypoints;
        float[] responses = keypoints.Select(k => k.Response).ToArray();
        Array.Sort(responses, (a, b) => b.CompareTo(a));
        float boundary = responses[count - 1];
        return keypoints.Where(k => k.Response >= boundary).ToArray();
    }

    private static int Compare(Keypoint a, Keypoint b)
    {
        if (a.X != b.X) return a.X < b.X ? -1 : 1;
        if (a.Y != b.Y) return a.Y < b.Y ? -1 : 1;
        if (a.Size != b.Size) return a.Size > b.Size ? -1 : 1;
        if (a.Angle != b.Angle) return a.Angle < b.Angle ? -1 : 1;
        if (a.Response != b.Response) return a.Response > b.Response ? -1 : 1;
        if (a.Octave != b.Octave) return a.Octave > b.Octave ? -1 : 1;
        return 0;
    }
}
