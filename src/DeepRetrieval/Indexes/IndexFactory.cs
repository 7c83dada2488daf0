using System.Globalization;
using DeepRetrieval.Quantization;

namespace DeepRetrieval.Indexes;

/// <summary>
/// Builds an index from a short description string, as Faiss's <c>index_factory</c>: comma-separated tokens
/// read left to right (transforms, then the index, then refinement). This release knows <c>Flat</c> (exact search),
/// <c>HNSW&lt;M&gt;</c> (a graph with M links per node, e.g. <c>HNSW32</c>), <c>SQ8</c>, <c>SQ4</c>, <c>SQfp16</c>
/// (exhaustive search over scalar-quantized codes; trained), <c>KDTree</c> (L2 only) and <c>RPForest&lt;trees&gt;</c>
/// (an Annoy forest, e.g. <c>RPForest10</c>); a final <c>,RFlat</c> re-ranks any of them exactly (e.g. <c>SQ4,RFlat</c>).
/// </summary>
public static class IndexFactory
{
    /// <summary>Creates an empty index described by <paramref name="description"/>.</summary>
    /// <param name="dimension">Components per vector.</param>
    /// <param name="description">For example <c>Flat</c>, <c>HNSW32</c> or <c>SQ8</c>. Tokens are case-sensitive, as in Faiss.</param>
    /// <param name="metric">How vectors are compared.</param>
    /// <exception cref="ArgumentException">The string is empty, or a token is unknown or malformed; the message names the token and its position.</exception>
    public static IVectorIndex Create(int dimension, string description, Metric metric = Metric.L2)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentNullException.ThrowIfNull(description);
        if (description.Trim().Length == 0)
            throw new ArgumentException("The index description is empty; try \"Flat\" or \"HNSW32\".", nameof(description));
        string[] tokens = description.Split(',');
        for (int i = 0; i < tokens.Length; i++)
        {
            tokens[i] = tokens[i].Trim();
            if (tokens[i].Length == 0)
                throw new ArgumentException($"Index description \"{description}\": token {i + 1} is empty (a stray comma?).", nameof(description));
        }

        // A trailing RFlat wraps whatever the tokens before it build in exact re-ranking.
        int last = tokens.Length;
        bool refine = last > 1 && tokens[^1] == RefineFlatIndex.KindName;
        if (refine) last--;
        IVectorIndex index = CreateBase(dimension, tokens[0], metric)
            ?? throw Bad(description, 1, tokens[0], "is not a known index kind (known: Flat, HNSW<M>, SQ8, SQ4, SQfp16, KDTree, RPForest<trees>)");
        if (last > 1)
            throw Bad(description, 2, tokens[1], $"cannot follow {tokens[0]}, which takes no further encoding in this release (only a final RFlat)");
        return refine ? new RefineFlatIndex(index) : index;
    }

    private static IVectorIndex? CreateBase(int dimension, string token, Metric metric)
    {
        if (token == FlatIndex.KindName)
            return new FlatIndex(dimension, metric);
        if (token == KdTreeIndex.KindName)
            return new KdTreeIndex(dimension, metric);
        if (token.StartsWith(RandomProjectionForestIndex.KindName, StringComparison.Ordinal))
        {
            string digits = token[RandomProjectionForestIndex.KindName.Length..];
            if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int trees) || trees < 1 || trees > 1024)
                throw new ArgumentException($"Index token \"{token}\": RPForest needs its tree count as a whole number from 1 to 1024, e.g. RPForest10.");
            return new RandomProjectionForestIndex(dimension, trees, metric);
        }
        if (ScalarQuantizerTypes.TryGetValue(token, out ScalarQuantizerType type))
            return new ScalarQuantizerIndex(dimension, type, metric);
        if (token.StartsWith(HnswIndex.KindName, StringComparison.Ordinal))
        {
            string digits = token[HnswIndex.KindName.Length..];
            if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int m) || m < 2 || m > 1024)
                throw new ArgumentException($"Index token \"{token}\": HNSW needs its link count M as a whole number from 2 to 1024, e.g. HNSW32.");
            return new HnswIndex(dimension, metric, m);
        }
        return null;
    }

    private static readonly Dictionary<string, ScalarQuantizerType> ScalarQuantizerTypes = new(StringComparer.Ordinal)
    {
        ["SQ8"] = ScalarQuantizerType.SQ8,
        ["SQ4"] = ScalarQuantizerType.SQ4,
        ["SQfp16"] = ScalarQuantizerType.Fp16,
    };

    private static ArgumentException Bad(string description, int position, string token, string problem) =>
        new($"Index description \"{description}\": token {position} \"{token}\" {problem}.", nameof(description));
}
