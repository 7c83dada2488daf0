using DeepRetrieval.Reranking;

namespace DeepRetrieval.Tests.Reranking;

/// <summary>A four-vector 2-d database worked through by hand in the query expansion and augmentation tests.</summary>
internal static class RerankingFixtures
{
    // x0 = (0.8, 0.6), x1 = (0.6, −0.8), x2 = (−0.28, 0.96), x3 = (0.28, 0.96); the query (1, 0) has similarities
    // 0.8, 0.6, −0.28, 0.28, so its initial ranking is x0, x1, x3, x2.
    public static float[] Vectors => [0.8f, 0.6f, 0.6f, -0.8f, -0.28f, 0.96f, 0.28f, 0.96f];

    public static float[] Query => [1f, 0f];

    public static MatrixDatabase Database(long[]? ids = null) => new(Vectors, 2, ids);

    public static RerankingState Initial(IRerankingDatabase database, float[] query, int width)
    {
        int queries = query.Length / database.Dimension;
        var ids = new long[queries * width];
        var scores = new float[ids.Length];
        database.Search(query, width, ids, scores);
        return new RerankingState(query, database, RankedLists.FromSearch(queries, width, ids, scores, database.Metric));
    }
}
