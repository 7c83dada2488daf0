using System.Collections.ObjectModel;

namespace DeepRetrieval.Evaluation.Protocols;

/// <summary>
/// mAP and mean precision at k of an instance-retrieval benchmark, with the per-query values (NaN for a query that
/// has no positives, which the means skip, as revisitop's <c>compute_map</c> does).
/// </summary>
public sealed record InstanceRetrievalResult
{
    internal InstanceRetrievalResult(double meanAveragePrecision, double[] averagePrecisions, IReadOnlyDictionary<int, double> meanPrecisionAtK,
        IReadOnlyDictionary<int, double[]> precisionsAtK, int emptyQueryCount)
    {
        MeanAveragePrecision = meanAveragePrecision;
        AveragePrecisions = Array.AsReadOnly(averagePrecisions);
        MeanPrecisionAtK = meanPrecisionAtK;
        PrecisionsAtK = new ReadOnlyDictionary<int, IReadOnlyList<double>>(precisionsAtK.ToDictionary(p => p.Key, p => (IReadOnlyList<double>)Array.AsReadOnly(p.Value)));
        EmptyQueryCount = emptyQueryCount;
    }

    /// <summary>Mean of the average precisions of the queries that have positives; NaN when none has.</summary>
    public double MeanAveragePrecision { get; }

    /// <summary>Average precision of each query; NaN for a query without positives.</summary>
    public IReadOnlyList<double> AveragePrecisions { get; }

    /// <summary>Mean precision at each requested k over the queries that have positives (mP@k).</summary>
    public IReadOnlyDictionary<int, double> MeanPrecisionAtK { get; }

    /// <summary>Precision at each requested k of each query; NaN for a query without positives.</summary>
    public IReadOnlyDictionary<int, IReadOnlyList<double>> PrecisionsAtK { get; }

    /// <summary>Queries without positives, left out of the means.</summary>
    public int EmptyQueryCount { get; }
}
