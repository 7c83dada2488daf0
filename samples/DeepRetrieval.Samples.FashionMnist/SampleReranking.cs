using DeepRetrieval;
using DeepRetrieval.Evaluation;
using DeepRetrieval.Reranking;
using DeepRetrieval.Torch.Extraction;

namespace DeepRetrieval.Samples.FashionMnist;

/// <summary>The sample's --rerank step: re-ranks the HNSW lists of the test set querying itself and prints before and after.</summary>
internal static class SampleReranking
{
    /// <summary>
    /// The re-ranker the sample uses: αQE over a wide top (n = 400, α = 1). Fashion-MNIST's relevant sets are whole classes
    /// of 1,000, so the expanded query moves towards its class centre; diffusion, built for instance retrieval, leaks along
    /// the manifold into neighbouring classes and lowers MAP@R here (docs/benchmarks.md, "Re-ranking the Fashion-MNIST sample").
    /// </summary>
    public static IReranker Create() => QueryExpansion.AlphaWeighted(neighbors: 400, alpha: 1f);

    public static Dictionary<string, object> Run(ExtractedFeatures features, byte[] labels, long[] rawIds, float[] distances, int k, int[] relevantCounts, int[] recallKs)
    {
        var database = new MatrixDatabase(features.Vectors, features.Dimension, features.Ids, Metric.L2);
        var state = new RerankingState(features.Vectors, database, RankedLists.FromSearch(features.Count, k, rawIds, distances, Metric.L2));
        IReranker reranker = Create();
        RerankingReport report = RetrievalEvaluator.EvaluateReranking<byte>(reranker, state, labels, labels, relevantCounts, recallKs, features.Ids);

        Console.WriteLine();
        Console.WriteLine($"Re-ranking with {reranker.Name} ({report.Elapsed.TotalSeconds:F1} s for {features.Count:N0} queries):");
        Console.WriteLine($"                before    after");
        Console.WriteLine($"  Precision@1   {report.Before.PrecisionAt1:F4}    {report.After.PrecisionAt1:F4}");
        Console.WriteLine($"  MAP@R         {report.Before.MeanAveragePrecisionAtR:F4}    {report.After.MeanAveragePrecisionAtR:F4}");
        Console.WriteLine($"  R-Precision   {report.Before.RPrecision:F4}    {report.After.RPrecision:F4}");
        foreach (int cut in recallKs) Console.WriteLine($"  Recall@{cut,-6} {report.Before.RecallAtK[cut]:F4}    {report.After.RecallAtK[cut]:F4}");
        return new Dictionary<string, object>
        {
            ["reranker"] = reranker.Name,
            ["seconds"] = report.Elapsed.TotalSeconds,
            ["precision_at_1"] = report.After.PrecisionAt1,
            ["map_at_r"] = report.After.MeanAveragePrecisionAtR,
            ["r_precision"] = report.After.RPrecision,
            ["recall_at_k"] = recallKs.ToDictionary(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture), c => report.After.RecallAtK[c]),
        };
    }
}
