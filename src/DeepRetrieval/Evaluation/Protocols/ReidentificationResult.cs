using System.Collections.ObjectModel;

namespace DeepRetrieval.Evaluation.Protocols;

/// <summary>Market-1501 style re-identification scores: CMC and mAP over all queries.</summary>
public sealed record ReidentificationResult
{
    internal ReidentificationResult(double[] cmc, double[] averagePrecisions, int queriesWithoutMatches)
    {
        Cmc = Array.AsReadOnly(cmc);
        AveragePrecisions = Array.AsReadOnly(averagePrecisions);
        MeanAveragePrecision = averagePrecisions.Length == 0 ? double.NaN : averagePrecisions.Average();
        QueriesWithoutMatches = queriesWithoutMatches;
    }

    /// <summary>Cumulative match characteristic: <c>Cmc[k − 1]</c> is the fraction of queries with a true match in the top k (rank-k accuracy).</summary>
    public IReadOnlyList<double> Cmc { get; }

    /// <summary>Rank-1 accuracy, <c>Cmc[0]</c>.</summary>
    public double Rank1 => Cmc[0];

    /// <summary>Mean of <see cref="AveragePrecisions"/> over all queries.</summary>
    public double MeanAveragePrecision { get; }

    /// <summary>Average precision of each query (0 for a query without a true match in the gallery).</summary>
    public IReadOnlyList<double> AveragePrecisions { get; }

    /// <summary>Queries whose identity has no image from another camera in the gallery; they score 0 and still count.</summary>
    public int QueriesWithoutMatches { get; }
}
