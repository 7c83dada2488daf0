using DeepRetrieval.Aggregation;
using DeepRetrieval.Imaging;
using DeepRetrieval.Imaging.Features;
using DeepRetrieval.Imaging.Processing;

namespace DeepRetrieval.Samples.CopyDetection.Methods;

/// <summary>
/// Re-ranks another method's short list by spatial verification: RootSIFT on the grey image (at most 512 pixels on the longer
/// side, at most 1,000 keypoints), descriptor matches with Lowe's ratio test, an affine RANSAC fit
/// (<see cref="SpatialReranker"/>), for the query and for its mirror image (SIFT is not invariant to a flip, and an affine
/// fit cannot undo one). A candidate is verified with at least <c>minimumInliers</c> inliers in either: on these photos
/// wrong pairs reach up to 19 by chance (similar abstract artwork, repeated structure), true ones usually tens to hundreds
/// (see docs/copy-detection.md). Verified candidates
/// score their inlier count plus a fraction that grows with the short-list score, so across all queries they rank above
/// every unverified pair; the rest keep the short-list score minus 2. The short list must come from a method whose scores lie in [−1, 1] (the
/// embedding's cosine similarity).
/// </summary>
internal sealed class SpatialVerificationDetector(string shortListMethod, int shortListLength, int minimumInliers, int threads) : ICopyDetector
{
    private const int SiftSide = 512;
    private readonly SpatialRerankOptions _options = new() { MinimumInliers = minimumInliers };
    private readonly Sift _sift = new(new SiftOptions
    {
        Normalization = SiftDescriptorNormalization.RootSift,
        MaxKeypoints = 1000,
        MaxDegreeOfParallelism = threads,
    });
    private readonly List<LocalFeatures> _references = [];

    public string Name => "ResNet-18 + SIFT/RANSAC";

    public void AddReference(PixelImage image) => _references.Add(Features(image));

    public float[] Score(PixelImage query, IReadOnlyDictionary<string, float[]> earlier)
    {
        if (!earlier.TryGetValue(shortListMethod, out float[]? baseScores))
            throw new InvalidOperationException($"{Name} re-ranks {shortListMethod}'s short list; run that method before it.");
        var scores = new float[baseScores.Length];
        for (int i = 0; i < scores.Length; i++) scores[i] = baseScores[i] - 2;
        ScoredImage[] shortList = [.. Enumerable.Range(0, baseScores.Length)
            .OrderByDescending(i => baseScores[i]).ThenBy(i => i)
            .Take(shortListLength)
            .Select(i => new ScoredImage(i, baseScores[i]))];
        var inliers = new Dictionary<long, int>();
        foreach (PixelImage view in (PixelImage[])[query, query.FlipHorizontal()])
        {
            foreach (VerifiedCandidate candidate in SpatialReranker.Rerank(Features(view), shortList, id => _references[(int)id], _options))
            {
                if (candidate.Verified) inliers[candidate.Id] = Math.Max(candidate.Inliers, inliers.GetValueOrDefault(candidate.Id));
            }
        }
        // The cosine breaks ties between equal inlier counts and stays inside the fraction, so the caption can read the count back.
        foreach ((long id, int count) in inliers) scores[id] = count + (1 + baseScores[id]) / 2.01f;
        return scores;
    }

    public string Caption(float score) =>
        score >= minimumInliers ? FormattableString.Invariant($"{Math.Floor(score):0} inliers") : FormattableString.Invariant($"cos {score + 2:0.00}");

    private LocalFeatures Features(PixelImage image)
    {
        PixelImage grey = image.ConvertTo(PixelFormat.Gray8);
        if (grey.Width > SiftSide || grey.Height > SiftSide) grey = grey.ResizeToFit(SiftSide, SiftSide, ResizeFilter.Bilinear);
        return _sift.DetectAndCompute(grey.Pixels, grey.Width, grey.Height);
    }

    public void Dispose()
    {
    }
}
