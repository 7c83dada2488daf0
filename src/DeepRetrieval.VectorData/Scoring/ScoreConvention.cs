using DeepRetrieval.Distances;
using Functions = Microsoft.Extensions.VectorData.DistanceFunction;

namespace DeepRetrieval.VectorData.Scoring;

/// <summary>
/// How one of the abstraction's distance functions maps onto an index <see cref="DeepRetrieval.Metric"/>, and how the value
/// the index reports becomes the score the abstraction's connectors report (the InMemory and Qdrant conventions):
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term>distance function</term><description>index metric → score (order)</description></listheader>
/// <item><term>CosineSimilarity (default)</term><description>Cosine → cos θ (descending)</description></item>
/// <item><term>CosineDistance</term><description>Cosine → 1 − cos θ (ascending)</description></item>
/// <item><term>DotProductSimilarity</term><description>InnerProduct → x·y (descending)</description></item>
/// <item><term>NegativeDotProductSimilarity</term><description>InnerProduct → −x·y (ascending)</description></item>
/// <item><term>EuclideanDistance</term><description>L2 (squared) → √d² (ascending)</description></item>
/// <item><term>EuclideanSquaredDistance</term><description>L2 (squared) → d² (ascending)</description></item>
/// </list>
/// <para>Hamming and Manhattan distances have no index metric here and are rejected when the collection is defined.
/// A score threshold keeps scores at or above it for descending conventions and at or below it for ascending ones.</para>
/// </remarks>
public sealed class ScoreConvention
{
    private static readonly Dictionary<string, ScoreConvention> Conventions = new(StringComparer.Ordinal)
    {
        [Functions.CosineSimilarity] = new(Functions.CosineSimilarity, Metric.Cosine, higherIsCloser: true, raw => raw),
        [Functions.CosineDistance] = new(Functions.CosineDistance, Metric.Cosine, higherIsCloser: false, raw => 1 - raw),
        [Functions.DotProductSimilarity] = new(Functions.DotProductSimilarity, Metric.InnerProduct, higherIsCloser: true, raw => raw),
        [Functions.NegativeDotProductSimilarity] = new(Functions.NegativeDotProductSimilarity, Metric.InnerProduct, higherIsCloser: false, raw => -raw),
        [Functions.EuclideanDistance] = new(Functions.EuclideanDistance, Metric.L2, higherIsCloser: false, raw => Math.Sqrt(Math.Max(raw, 0))),
        [Functions.EuclideanSquaredDistance] = new(Functions.EuclideanSquaredDistance, Metric.L2, higherIsCloser: false, raw => raw),
    };

    private readonly Func<double, double> _fromIndexValue;

    private ScoreConvention(string distanceFunction, Metric metric, bool higherIsCloser, Func<double, double> fromIndexValue)
    {
        DistanceFunction = distanceFunction;
        Metric = metric;
        HigherIsCloser = higherIsCloser;
        _fromIndexValue = fromIndexValue;
    }

    /// <summary>The distance function used when a vector property names none, as the InMemory and Qdrant connectors do.</summary>
    public const string DefaultDistanceFunction = Functions.CosineSimilarity;

    /// <summary>The distance functions this store supports, for error messages.</summary>
    public static IReadOnlyCollection<string> SupportedDistanceFunctions => Conventions.Keys;

    /// <summary>The abstraction's distance function name.</summary>
    public string DistanceFunction { get; }

    /// <summary>The index metric that serves it.</summary>
    public Metric Metric { get; }

    /// <summary>True when results are ordered by descending score (similarities), false for ascending (distances).</summary>
    public bool HigherIsCloser { get; }

    /// <summary>Looks up the convention of a distance function (null means the default, cosine similarity).</summary>
    /// <param name="distanceFunction">The abstraction's distance function name.</param>
    /// <exception cref="NotSupportedException">The function has no index metric here (Hamming, Manhattan, an unknown name).</exception>
    public static ScoreConvention For(string? distanceFunction)
    {
        if (Conventions.TryGetValue(distanceFunction ?? DefaultDistanceFunction, out ScoreConvention? convention))
            return convention;
        throw new NotSupportedException(
            $"The distance function '{distanceFunction}' is not supported by the DeepRetrieval vector store; supported: {string.Join(", ", Conventions.Keys)}.");
    }

    /// <summary>Converts the value an index reports (squared L2 distance, inner product or cosine similarity) to the score.</summary>
    /// <param name="indexValue">The index's distance or similarity.</param>
    public double FromIndexValue(double indexValue) => _fromIndexValue(indexValue);

    /// <summary>Converts an exact similarity or squared distance computed from the stored vectors to the score.</summary>
    /// <param name="query">The query.</param>
    /// <param name="vector">A stored vector of the same length.</param>
    public double Score(ReadOnlySpan<float> query, ReadOnlySpan<float> vector) => FromIndexValue(Distance.Compute(Metric, query, vector));

    /// <summary>True when <paramref name="score"/> passes a score threshold (inclusive).</summary>
    /// <param name="score">A score in this convention.</param>
    /// <param name="threshold">The threshold, or null for none.</param>
    public bool Passes(double score, double? threshold) =>
        threshold is not { } t || (HigherIsCloser ? score >= t : score <= t);

    /// <summary>Orders scores closest first.</summary>
    /// <param name="a">A score.</param>
    /// <param name="b">Another score.</param>
    public int CompareCloserFirst(double a, double b) => HigherIsCloser ? b.CompareTo(a) : a.CompareTo(b);
}
