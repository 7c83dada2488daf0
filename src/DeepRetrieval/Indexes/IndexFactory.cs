using System.Globalization;
using DeepRetrieval.Quantization;

namespace DeepRetrieval.Indexes;

/// <summary>
/// Builds an index from a short description string, as Faiss's <c>index_factory</c>: comma-separated tokens
/// read left to right (transforms, then the index, then refinement). This release knows <c>Flat</c> (exact search),
/// <c>HNSW&lt;M&gt;</c> (a graph with M links per node, e.g. <c>HNSW32</c>) and <c>SQ8</c>, <c>SQ4</c>, <c>SQfp16</c>
/// (exhaustive search over scalar-quantized codes; trained) and <c>IVF&lt;n&gt;[_HNSW&lt;M&gt;],&lt;encoding&gt;</c>
/// (an inverted file of n lists whose entries are <c>Flat</c>, <c>SQ8</c>, <c>SQ4</c>, <c>SQfp16</c> or <c>PQ&lt;M&gt;[x&lt;bits&gt;]</c>; trained).
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

        if (tokens[0].StartsWith(IvfIndex.KindName, StringComparison.Ordinal))
            return CreateIvf(dimension, description, tokens, metric);
        IVectorIndex index = CreateBase(dimension, tokens[0], metric)
            ?? throw Bad(description, 1, tokens[0], "is not a known index kind (known: Flat, HNSW<M>, SQ8, SQ4, SQfp16)");
        if (tokens.Length > 1)
            throw Bad(description, 2, tokens[1], $"cannot follow {tokens[0]}, which takes no further encoding or refinement in this release");
        return index;
    }

    private static IVectorIndex? CreateBase(int dimension, string token, Metric metric)
    {
        if (token == FlatIndex.KindName)
            return new FlatIndex(dimension, metric);
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

    // "IVF<lists>[_HNSW<M>],<encoding>": an inverted file whose coarse quantizer is flat, or an HNSW graph.
    private static IvfIndex CreateIvf(int dimension, string description, string[] tokens, Metric metric)
    {
        string[] parts = tokens[0][IvfIndex.KindName.Length..].Split('_');
        if (parts.Length > 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int lists) || lists < 1)
            throw Bad(description, 1, tokens[0], "needs the list count as a whole number, optionally with an HNSW coarse quantizer, e.g. IVF1024 or IVF65536_HNSW32");
        if (tokens.Length != 2)
            throw Bad(description, tokens.Length < 2 ? 1 : 3, tokens[^1], "must be followed by exactly one list encoding (Flat, SQ8, SQ4, SQfp16, PQ<M> or PQ<M>x<bits>), e.g. IVF1024,Flat");
        Metric coarseMetric = metric == Metric.L2 ? Metric.L2 : Metric.InnerProduct;
        IVectorIndex? coarse = null;
        if (parts.Length == 2)
        {
            coarse = CreateBase(dimension, parts[1], coarseMetric) as HnswIndex
                ?? throw Bad(description, 1, tokens[0], "names an unknown coarse quantizer; only HNSW<M> may follow the underscore");
        }
        IvfEncoding encoding;
        try
        {
            encoding = IvfEncoding.Parse(tokens[1]);
        }
        catch (ArgumentException e)
        {
            throw Bad(description, 2, tokens[1], $"is not a list encoding ({e.Message})");
        }
        return new IvfIndex(dimension, lists, metric, encoding, coarse);
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
