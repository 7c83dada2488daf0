using DeepRetrieval.Aggregation;

namespace DeepRetrieval.Imaging.Features;

/// <summary>
/// Re-ranks a retrieval short list by spatial verification (Philbin et al., "Object retrieval with large vocabularies
/// and fast spatial matching", CVPR 2007): for each candidate, tentative correspondences with the query (matched
/// descriptors, or shared visual words) are fitted by <see cref="Ransac"/>, and verified candidates (enough inliers)
/// move to the front ordered by inlier count, then MSAC score, then their retrieval order; the rest follow in their
/// retrieval order.
/// </summary>
public static class SpatialReranker
{
    /// <summary>Re-ranks by descriptor matches between the query and each candidate.</summary>
    /// <param name="query">The query's keypoints and descriptors.</param>
    /// <param name="shortList">Candidates in retrieval order (for example <c>InvertedFile.Search</c>'s result).</param>
    /// <param name="featuresOf">The stored features of a candidate id.</param>
    /// <param name="options">Matching, RANSAC and acceptance settings; null for defaults.</param>
    /// <param name="cancellationToken">Checked before each candidate.</param>
    /// <returns>Every short-list entry once, in the new order.</returns>
    public static VerifiedCandidate[] Rerank(LocalFeatures query, IReadOnlyList<ScoredImage> shortList, Func<long, LocalFeatures> featuresOf,
        SpatialRerankOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(shortList);
        ArgumentNullException.ThrowIfNull(featuresOf);
        options = Check(options);
        return Order(shortList, (candidate, _) =>
        {
            LocalFeatures features = featuresOf(candidate.Id) ?? throw new InvalidOperationException($"No features were returned for image {candidate.Id}.");
            FeatureMatch[] matches = DescriptorMatcher.Match(query, features, options.Matching);
            return Ransac.Fit(query.Keypoints, features.Keypoints, matches, options.Ransac);
        }, options, cancellationToken);
    }

    /// <summary>
    /// Re-ranks by visual-word correspondences (features assigned to the same word), which needs only the keypoints and
    /// word ids that a bag-of-words index keeps, not the descriptors.
    /// </summary>
    /// <param name="queryKeypoints">The query's keypoints.</param>
    /// <param name="queryWords">The visual word of each query keypoint.</param>
    /// <param name="shortList">Candidates in retrieval order.</param>
    /// <param name="wordsOf">A candidate's keypoints and their words.</param>
    /// <param name="options">RANSAC, acceptance and word-burst settings; null for defaults.</param>
    /// <param name="cancellationToken">Checked before each candidate.</param>
    /// <exception cref="ArgumentException">The keypoint and word counts differ.</exception>
    public static VerifiedCandidate[] RerankByWords(ReadOnlySpan<Keypoint> queryKeypoints, ReadOnlySpan<int> queryWords, IReadOnlyList<ScoredImage> shortList,
        Func<long, (Keypoint[] Keypoints, int[] Words)> wordsOf, SpatialRerankOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(shortList);
        ArgumentNullException.ThrowIfNull(wordsOf);
        if (queryKeypoints.Length != queryWords.Length)
            throw new ArgumentException($"Got {queryKeypoints.Length} query keypoints but {queryWords.Length} words.", nameof(queryWords));
        options = Check(options);
        Keypoint[] keypoints = queryKeypoints.ToArray();
        int[] words = queryWords.ToArray();
        return Order(shortList, (candidate, _) =>
        {
            (Keypoint[] candidateKeypoints, int[] candidateWords) = wordsOf(candidate.Id);
            ArgumentNullException.ThrowIfNull(candidateKeypoints);
            ArgumentNullException.ThrowIfNull(candidateWords);
            if (candidateKeypoints.Length != candidateWords.Length)
                throw new InvalidOperationException($"Image {candidate.Id} has {candidateKeypoints.Length} keypoints but {candidateWords.Length} words.");
            FeatureMatch[] matches = WordCorrespondences(words, candidateWords, options.MaxWordOccurrences);
            return Ransac.Fit(keypoints, candidateKeypoints, matches, options.Ransac);
        }, options, cancellationToken);
    }

    /// <summary>
    /// Pairs of features that share a visual word, for words occurring at most <paramref name="maxOccurrences"/> times
    /// in each image (all pairs of such a word). Distances are 0: the pairs carry no descriptor distance.
    /// </summary>
    /// <param name="queryWords">Word of each query feature.</param>
    /// <param name="candidateWords">Word of each candidate feature.</param>
    /// <param name="maxOccurrences">Largest per-image count of a word that still contributes; positive.</param>
    public static FeatureMatch[] WordCorrespondences(ReadOnlySpan<int> queryWords, ReadOnlySpan<int> candidateWords, int maxOccurrences)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxOccurrences);
        var byWord = new Dictionary<int, List<int>>();
        for (int j = 0; j < candidateWords.Length; j++)
        {
            if (!byWord.TryGetValue(candidateWords[j], out var list)) byWord[candidateWords[j]] = list = [];
            list.Add(j);
        }
        var queryCounts = new Dictionary<int, int>();
        foreach (int w in queryWords) queryCounts[w] = queryCounts.GetValueOrDefault(w) + 1;
        var matches = new List<FeatureMatch>();
        for (int i = 0; i < queryWords.Length; i++)
        {
            int w = queryWords[i];
            if (queryCounts[w] > maxOccurrences || !byWord.TryGetValue(w, out var list) || list.Count > maxOccurrences) continue;
            foreach (int j in list) matches.Add(new FeatureMatch(i, j, 0f));
        }
        return [.. matches];
    }

    private static SpatialRerankOptions Check(SpatialRerankOptions? options)
    {
        options ??= new SpatialRerankOptions();
        ArgumentNullException.ThrowIfNull(options.Matching, nameof(options));
        ArgumentNullException.ThrowIfNull(options.Ransac, nameof(options));
        if (options.MinimumInliers < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.MinimumInliers, "MinimumInliers must not be negative.");
        if (options.MaxWordOccurrences <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxWordOccurrences, "MaxWordOccurrences must be positive.");
        return options;
    }

    private static VerifiedCandidate[] Order(IReadOnlyList<ScoredImage> shortList, Func<ScoredImage, int, GeometricVerification> verify,
        SpatialRerankOptions options, CancellationToken cancellationToken)
    {
        var results = new VerifiedCandidate[shortList.Count];
        for (int rank = 0; rank < shortList.Count; rank++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ScoredImage candidate = shortList[rank];
            GeometricVerification fit = verify(candidate, rank);
            int inliers = fit.Success ? fit.InlierCount : 0;
            results[rank] = new VerifiedCandidate(candidate.Id, candidate.Score, inliers, fit.Success ? fit.Score : 0, rank,
                fit.Success && inliers >= options.MinimumInliers);
        }
        return [.. results
            .OrderByDescending(c => c.Verified)
            .ThenByDescending(c => c.Verified ? c.Inliers : 0)
            .ThenByDescending(c => c.Verified ? c.VerificationScore : 0)
            .ThenBy(c => c.OriginalRank)];
    }
}
