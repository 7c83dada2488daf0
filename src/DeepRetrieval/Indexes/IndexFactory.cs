using System.Globalization;
using DeepRetrieval.Quantization;

namespace DeepRetrieval.Indexes;

/// <summary>
/// Builds an index from a short description string, as Faiss's <c>index_factory</c>: comma-separated tokens
/// read left to right (transforms, then the index, then refinement). This release knows <c>Flat</c> (exact search),
/// <c>HNSW&lt;M&gt;</c> (a graph with M links per node, e.g. <c>HNSW32</c>), <c>SQ8</c>, <c>SQ4</c>, <c>SQfp16</c>
/// (exhaustive search over scalar-quantized codes; trained), <c>BFlat</c> (Hamming search over the sign bits of each
/// vector) and <c>LSH&lt;nbits&gt;</c> (random-hyperplane hashing to nbits bits, e.g. <c>LSH256</c>; <c>LSH</c> alone uses
/// nbits = dimension; a trailing <c>t</c>, e.g. <c>LSH256t</c>, trains per-bit thresholds).
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

        IVectorIndex index = CreateBase(dimension, tokens[0], metric)
            ?? throw Bad(description, 1, tokens[0], "is not a known index kind (known: Flat, HNSW<M>, SQ8, SQ4, SQfp16, BFlat, LSH<nbits>)");
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
        if (token == BinaryFlatIndex.KindName)
        {
            if (metric != Metric.L2)
                throw new ArgumentException($"Index token \"{token}\": a binary index reports Hamming distances, so it needs Metric.L2; got {metric}.");
            return new BinaryFlatIndex(dimension);
        }
        if (token.StartsWith(LshIndex.KindName, StringComparison.Ordinal))
        {
            string rest = token[LshIndex.KindName.Length..];
            bool trainThresholds = rest.EndsWith('t');
            if (trainThresholds) rest = rest[..^1];
            int bits = dimension;
            if (rest.Length > 0 && (!int.TryParse(rest, NumberStyles.None, CultureInfo.InvariantCulture, out bits) || bits <= 0 || bits % 8 != 0))
                throw new ArgumentException($"Index token \"{token}\": LSH needs its bit count as a positive multiple of 8, e.g. LSH256 (or LSH256t to train thresholds).");
            return new LshIndex(dimension, bits, metric, trainThresholds);
        }
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
