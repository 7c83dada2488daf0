namespace DeepRetrieval.Evaluation.Protocols;

/// <summary>
/// UKBench (Nistér and Stewénius, CVPR 2006): 10,200 images of 2,550 objects, four consecutive images per object;
/// every image queries the whole set, and the N-S score is the mean number of the query's four group images (itself
/// included) among its top four results, from 0 to 4.
/// </summary>
public static class UkBenchProtocol
{
    /// <summary>Images per object.</summary>
    public const int GroupSize = 4;

    /// <summary>The N-S score.</summary>
    /// <param name="ranks">queryCount × <paramref name="width"/> database positions, best first; width ≥ 4.</param>
    /// <param name="width">Positions per query.</param>
    /// <param name="queryPositions">The database position of each query (itself among the database).</param>
    /// <returns>Mean group images in the top four, 0 to 4.</returns>
    /// <exception cref="ArgumentException">Shapes do not match or the width is below 4.</exception>
    public static double NsScore(ReadOnlySpan<long> ranks, int width, ReadOnlySpan<int> queryPositions)
    {
        int queries = ShapeGuard.RowCount(ranks.Length, width, nameof(ranks), nameof(width));
        if (width < GroupSize)
            throw new ArgumentOutOfRangeException(nameof(width), width, "UKBench scores the top 4 results; the lists need at least 4.");
        ShapeGuard.OnePerQuery(queryPositions.Length, queries, nameof(queryPositions));
        long total = 0;
        for (int q = 0; q < queries; q++)
        {
            int group = queryPositions[q] / GroupSize;
            foreach (long id in ranks.Slice(q * width, GroupSize))
                if (id >= 0 && id / GroupSize == group) total++;
        }

        return (double)total / queries;
    }
}
