using DeepRetrieval.Aggregation;
using DeepRetrieval.Clustering;
using DeepRetrieval.Imaging.Features;

namespace DeepRetrieval.Samples.CopyDetection.Methods;

/// <summary>
/// The classical bag of visual words with spatial verification: RootSIFT assigned to a k-means vocabulary of
/// <see cref="Words"/> words learnt from the distractors, a TF-IDF <see cref="InvertedFile"/> (square-root burstiness
/// damping, L2, dot product), and the top <c>shortListLength</c> re-ranked by affine RANSAC on descriptor matches
/// (<see cref="SpatialReranker"/>). Scores follow the SIFT re-ranker's rule so they compare across queries: a verified
/// reference (at least <c>minimumInliers</c> inliers) scores its inlier count plus a fraction from its TF-IDF similarity,
/// every other reference its similarity (in [0, 1]) minus 2. The query is not mirrored: SIFT does not survive a flip.
/// </summary>
internal sealed class SiftBovwDetector(int shortListLength, int minimumInliers, int seed, int threads) : LocalFeatureDetector(seed, threads)
{
    /// <summary>Vocabulary size.</summary>
    public const int Words = 1024;

    private readonly SpatialRerankOptions _verification = new() { MinimumInliers = minimumInliers };
    private VisualVocabulary? _vocabulary;
    private InvertedFile? _file;

    public override string Name => "SIFT BoVW + RANSAC";

    protected override void Fit(float[] descriptors)
    {
        _vocabulary = VisualVocabulary.Train(descriptors, Sift.DescriptorLength, Words, new KMeansOptions { Seed = Seed, MaxDegreeOfParallelism = Threads });
        _file = new InvertedFile(Words, new BagOfWordsOptions
        {
            Burstiness = BurstinessHandling.SquareRoot,
            Weighting = TermWeighting.TfIdf,
            Normalization = VectorNormalization.L2,
            Similarity = HistogramSimilarity.DotProduct,
        });
    }

    protected override void Index(int id, LocalFeatures features) => _file!.Add(id, _vocabulary!.Assign(features.Descriptors));

    protected override float[] Score(LocalFeatures query)
    {
        ScoredImage[] ranking = _file!.Search(_vocabulary!.Assign(query.Descriptors), References.Count);
        float[] scores = Scatter(ranking.Select(hit => hit with { Score = hit.Score - 2 }), -2);
        foreach (VerifiedCandidate candidate in SpatialReranker.Rerank(query, ranking.Take(shortListLength).ToList(), id => References[(int)id], _verification))
        {
            // The similarity stays inside the fraction, so the caption can read the inlier count back.
            if (candidate.Verified) scores[candidate.Id] = candidate.Inliers + Math.Clamp(candidate.RetrievalScore, 0f, 1f) * 0.99f;
        }
        return scores;
    }

    public override string Caption(float score) =>
        score >= minimumInliers ? FormattableString.Invariant($"{Math.Floor(score):0} inliers") : FormattableString.Invariant($"tf-idf {score + 2:0.00}");
}
