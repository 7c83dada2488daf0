namespace DeepRetrieval.Evaluation.Protocols;

/// <summary>
/// The Market-1501 protocol (Zheng et al., ICCV 2015), as its MATLAB <c>evaluation.m</c> / <c>compute_AP.m</c>
/// computes it: for each query the true matches are the gallery images of its identity taken by another camera;
/// gallery images of its identity from its own camera and images of the junk identity (−1) are removed from its
/// ranking; AP is the trapezoid of <see cref="InstanceRetrievalMetrics"/>, CMC marks every rank from the first true
/// match on. A query without any true match scores AP 0 and CMC 0, and every mean is over all queries (the
/// reference's <c>ap(isnan(ap)) = 0</c>). Distractor identity 0 is an ordinary wrong match.
/// </summary>
public static class ReidentificationProtocol
{
    /// <summary>The identity Market-1501 gives its junk images.</summary>
    public const int JunkIdentity = -1;

    /// <summary>Scores rankings of the gallery.</summary>
    /// <param name="ranks">queryCount × <paramref name="width"/> gallery positions, best first (normally the whole gallery).</param>
    /// <param name="width">Positions per query.</param>
    /// <param name="queryIdentities">Identity of each query.</param>
    /// <param name="queryCameras">Camera of each query.</param>
    /// <param name="galleryIdentities">Identity of each gallery image (−1 for junk).</param>
    /// <param name="galleryCameras">Camera of each gallery image.</param>
    /// <returns>CMC of length <paramref name="width"/>, mAP and the per-query APs.</returns>
    /// <exception cref="ArgumentException">Shapes do not match or a position is outside the gallery.</exception>
    public static ReidentificationResult Evaluate(ReadOnlySpan<long> ranks, int width,
        ReadOnlySpan<int> queryIdentities, ReadOnlySpan<int> queryCameras, ReadOnlySpan<int> galleryIdentities, ReadOnlySpan<int> galleryCameras)
    {
        int queries = ShapeGuard.RowCount(ranks.Length, width, nameof(ranks), nameof(width));
        ShapeGuard.OnePerQuery(queryIdentities.Length, queries, nameof(queryIdentities));
        ShapeGuard.OnePerQuery(queryCameras.Length, queries, nameof(queryCameras));
        ShapeGuard.SameLength(galleryCameras.Length, galleryIdentities.Length, nameof(galleryCameras), nameof(galleryIdentities));
        var matchCounts = new Dictionary<(int Identity, int Camera), int>();
        var identityCounts = new Dictionary<int, int>();
        for (int g = 0; g < galleryIdentities.Length; g++)
        {
            identityCounts[galleryIdentities[g]] = identityCounts.GetValueOrDefault(galleryIdentities[g]) + 1;
            matchCounts[(galleryIdentities[g], galleryCameras[g])] = matchCounts.GetValueOrDefault((galleryIdentities[g], galleryCameras[g])) + 1;
        }

        var cmc = new double[width];
        var aps = new double[queries];
        int withoutMatches = 0;
        for (int q = 0; q < queries; q++)
        {
            int identity = queryIdentities[q], camera = queryCameras[q];
            int good = identity == JunkIdentity ? 0 : identityCounts.GetValueOrDefault(identity) - matchCounts.GetValueOrDefault((identity, camera));
            if (good == 0)
            {
                withoutMatches++;
                continue;
            }

            ReadOnlySpan<long> ranking = ranks.Slice(q * width, width);
            int found = 0, kept = 0, firstMatch = -1;
            double ap = 0, oldPrecision = 1.0;
            for (int i = 0; i < ranking.Length && found < good; i++)
            {
                long position = ranking[i];
                if (position < 0 || position >= galleryIdentities.Length)
                    throw new ArgumentException($"ranks: query {q}, rank {i} holds {position}, outside the {galleryIdentities.Length} gallery images.", nameof(ranks));
                int galleryIdentity = galleryIdentities[(int)position];
                bool sameIdentity = galleryIdentity == identity;
                if (galleryIdentity == JunkIdentity || (sameIdentity && galleryCameras[(int)position] == camera)) continue; // junk
                if (sameIdentity)
                {
                    found++;
                    if (firstMatch < 0) firstMatch = kept;
                }

                double precision = (double)found / (kept + 1);
                if (sameIdentity) ap += (1.0 / good) * (oldPrecision + precision) / 2;
                oldPrecision = precision;
                kept++;
            }

            aps[q] = ap;
            if (firstMatch >= 0)
                for (int r = firstMatch; r < width; r++) cmc[r]++;
        }

        for (int r = 0; r < width; r++) cmc[r] /= queries;
        return new ReidentificationResult(cmc, aps, withoutMatches);
    }
}
