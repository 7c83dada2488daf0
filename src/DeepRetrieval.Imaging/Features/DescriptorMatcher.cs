using DeepRetrieval.Indexes;

namespace DeepRetrieval.Imaging.Features;

/// <summary>
/// Nearest-neighbour matching of local descriptors between two images, with Lowe's ratio test and mutual
/// nearest neighbours. Brute force runs through the core <see cref="FlatIndex"/> (exact, at matrix-multiply speed);
/// approximate matching takes any <see cref="IVectorIndex"/> over the train descriptors (HNSW, IVF, …), which pays
/// off when one side is large, for example matching against all features of a database.
/// </summary>
public static class DescriptorMatcher
{
    /// <summary>Matches the features of two images exactly (brute force, L2).</summary>
    /// <param name="query">Features of the query image.</param>
    /// <param name="train">Features of the other image; same descriptor length.</param>
    /// <param name="options">Ratio test, mutual check, distance limit; null for a 0.8 ratio test only.</param>
    /// <returns>Surviving matches, ordered by query index.</returns>
    /// <exception cref="ArgumentException">The descriptor lengths differ or an option is out of range.</exception>
    public static FeatureMatch[] Match(LocalFeatures query, LocalFeatures train, MatchOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(train);
        if (query.DescriptorLength != train.DescriptorLength)
            throw new ArgumentException($"Query descriptors have {query.DescriptorLength} components but train descriptors have {train.DescriptorLength}.", nameof(train));
        return Match(query.Descriptors, train.Descriptors, query.DescriptorLength, options);
    }

    /// <summary>Matches row-major query descriptors against row-major train descriptors exactly (brute force, L2).</summary>
    /// <param name="query">Row-major query descriptors, n × <paramref name="dimension"/>.</param>
    /// <param name="train">Row-major train descriptors, m × <paramref name="dimension"/>.</param>
    /// <param name="dimension">Components per descriptor; positive.</param>
    /// <param name="options">Ratio test, mutual check, distance limit; null for a 0.8 ratio test only.</param>
    /// <returns>Surviving matches, ordered by query index; empty when either side is empty.</returns>
    /// <exception cref="ArgumentException">The dimension does not divide a span, a value is not finite, or an option is out of range.</exception>
    public static FeatureMatch[] Match(ReadOnlySpan<float> query, ReadOnlySpan<float> train, int dimension, MatchOptions? options = null)
    {
        options ??= new MatchOptions();
        CheckOptions(options);
        int queryRows = Rows(query, dimension, nameof(query));
        int trainRows = Rows(train, dimension, nameof(train));
        if (queryRows == 0 || trainRows == 0) return [];
        var index = new FlatIndex(dimension);
        index.Add(train);
        return MatchCore(query, queryRows, index, options, train);
    }

    /// <summary>
    /// Matches query descriptors against an index holding the train descriptors (approximate when the index is).
    /// The index must use <see cref="Metric.L2"/> or <see cref="Metric.Cosine"/> and its ids must be the train row
    /// numbers (what <see cref="IVectorIndex.Add(ReadOnlySpan{float}, IndexBuildOptions?)"/> gives when filling an empty index).
    /// </summary>
    /// <param name="query">Row-major query descriptors, n × index dimension.</param>
    /// <param name="trainIndex">The train descriptors, ids 0 … m − 1.</param>
    /// <param name="options">Ratio test, mutual check, distance limit; null for a 0.8 ratio test only.</param>
    /// <param name="trainDescriptors">Row-major train descriptors; needed only for <see cref="MatchOptions.MutualNearest"/>, whose reverse search runs over the queries.</param>
    /// <returns>Surviving matches, ordered by query index.</returns>
    /// <exception cref="ArgumentException">
    /// The dimension does not divide the query span, the index compares by inner product, an option is out of range, or
    /// the mutual check is asked for without the train descriptors.
    /// </exception>
    public static FeatureMatch[] Match(ReadOnlySpan<float> query, IVectorIndex trainIndex, MatchOptions? options = null, ReadOnlySpan<float> trainDescriptors = default)
    {
        ArgumentNullException.ThrowIfNull(trainIndex);
        options ??= new MatchOptions();
        CheckOptions(options);
        if (trainIndex.Metric == Metric.InnerProduct)
            throw new ArgumentException("Descriptor matching needs an L2 or cosine index; inner-product scores have no ratio test.", nameof(trainIndex));
        int queryRows = Rows(query, trainIndex.Dimension, nameof(query));
        if (options.MutualNearest)
        {
            if (trainDescriptors.IsEmpty)
                throw new ArgumentException("MutualNearest with an index needs the train descriptors for the reverse search; pass trainDescriptors.", nameof(trainDescriptors));
            if (Rows(trainDescriptors, trainIndex.Dimension, nameof(trainDescriptors)) != trainIndex.Count)
                throw new ArgumentException($"trainDescriptors must hold the index's {trainIndex.Count} vectors.", nameof(trainDescriptors));
        }
        if (queryRows == 0 || trainIndex.Count == 0) return [];
        return MatchCore(query, queryRows, trainIndex, options, trainDescriptors);
    }

    private static FeatureMatch[] MatchCore(ReadOnlySpan<float> query, int queryRows, IVectorIndex index, MatchOptions options, ReadOnlySpan<float> train)
    {
        int k = options.RatioThreshold is null ? 1 : 2;
        var ids = new long[queryRows * k];
        var distances = new float[queryRows * k];
        index.Search(query, k, ids, distances, options.Search);
        int[]? reverse = options.MutualNearest ? ReverseNearest(query, index.Dimension, index.Metric, train, options.Search) : null;
        float ratio = options.RatioThreshold ?? 1f;
        float maxDistance = options.MaxDistance ?? float.PositiveInfinity;
        var matches = new List<FeatureMatch>();
        for (int q = 0; q < queryRows; q++)
        {
            long best = ids[q * k];
            if (best < 0) continue;
            float d1 = Euclidean(distances[q * k], index.Metric);
            if (options.RatioThreshold is not null)
            {
                long second = ids[q * k + 1];
                // With a single train descriptor there is no second neighbour and the ratio test cannot reject.
                if (second >= 0 && !(d1 < ratio * Euclidean(distances[q * k + 1], index.Metric))) continue;
            }
            if (d1 > maxDistance) continue;
            if (reverse is not null && reverse[best] != q) continue;
            matches.Add(new FeatureMatch(q, (int)best, d1));
        }
        return [.. matches];
    }

    // For every train descriptor, the query row nearest to it (exact, through a flat index over the queries).
    private static int[] ReverseNearest(ReadOnlySpan<float> query, int dimension, Metric metric, ReadOnlySpan<float> train, SearchOptions? search)
    {
        var queries = new FlatIndex(dimension, metric);
        queries.Add(query);
        int trainRows = train.Length / dimension;
        var ids = new long[trainRows];
        var distances = new float[trainRows];
        queries.Search(train, 1, ids, distances, search);
        return ids.Select(id => (int)id).ToArray();
    }

    // L2 indexes return squared distances; cosine indexes return similarities of unit vectors, for which
    // ‖a − b‖² = 2 − 2 cos.
    private static float Euclidean(float value, Metric metric) =>
        metric == Metric.Cosine ? MathF.Sqrt(MathF.Max(0f, 2f - 2f * value)) : MathF.Sqrt(MathF.Max(0f, value));

    private static int Rows(ReadOnlySpan<float> values, int dimension, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (values.Length % dimension != 0)
            throw new ArgumentException($"The descriptor dimension {dimension} does not divide the {values.Length} values.", name);
        return values.Length / dimension;
    }

    private static void CheckOptions(MatchOptions options)
    {
        if (options.RatioThreshold is float ratio && !(ratio > 0 && ratio <= 1))
            throw new ArgumentOutOfRangeException(nameof(options), ratio, "RatioThreshold must be in (0, 1].");
        if (options.MaxDistance is float max && !(max >= 0))
            throw new ArgumentOutOfRangeException(nameof(options), max, "MaxDistance must not be negative.");
    }
}
