using System.Globalization;
using DeepRetrieval.Quantization;
using DeepRetrieval.Transforms;

namespace DeepRetrieval.Indexes;

/// <summary>
/// Builds an index from a short description string, as Faiss's <c>index_factory</c>: comma-separated tokens
/// read left to right (transforms, then the index, then refinement). This release knows <c>Flat</c> (exact search),
/// <c>HNSW&lt;M&gt;</c> (a graph with M links per node, e.g. <c>HNSW32</c>), <c>SQ8</c>, <c>SQ4</c>, <c>SQfp16</c>
/// (exhaustive search over scalar-quantized codes; trained) and <c>PQ&lt;M&gt;</c> or <c>PQ&lt;M&gt;x&lt;bits&gt;</c>
/// (exhaustive search over product-quantized codes of M sub-quantizers with 8 or the given 4 to 8 bits; trained).
/// Transform tokens may come first, each mapping the vectors before the next: <c>PCA&lt;d&gt;</c> (PCA to d dimensions),
/// <c>PCAW&lt;d&gt;</c> (whitened), <c>PCAR&lt;d&gt;</c> (randomly rotated), <c>PCAWR&lt;d&gt;</c>, and <c>OPQ&lt;M&gt;</c> or
/// <c>OPQ&lt;M&gt;_&lt;d&gt;</c> (an OPQ rotation for M sub-quantizers, to d dimensions); for example <c>OPQ16_64,PQ16</c>
/// or <c>PCA64,HNSW32</c>. The result is then a <see cref="TransformedIndex"/>. <c>IVF&lt;n&gt;[_HNSW&lt;M&gt;],&lt;encoding&gt;</c> is an
/// inverted file of n lists (<see cref="IvfIndex"/>; trained) whose entries are <c>Flat</c>, <c>SQ8</c>, <c>SQ4</c>,
/// <c>SQfp16</c> or <c>PQ&lt;M&gt;[x&lt;bits&gt;]</c>, with an HNSW coarse quantizer after the underscore, e.g. <c>IVF65536_HNSW32,PQ32</c>.
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

        // Leading transform tokens (PCA…, OPQ…) each map the dimension on; the next token is the index.
        var transforms = new List<Func<int, IVectorTransform>>();
        int at = 0, current = dimension;
        while (at < tokens.Length && TryParseTransform(description, at, tokens[at], ref current) is { } create)
        {
            transforms.Add(create);
            at++;
        }
        if (at == tokens.Length)
            throw Bad(description, at, tokens[at - 1], "is a transform and must be followed by an index, e.g. PCA64,Flat");

        IVectorIndex index;
        if (tokens[at].StartsWith(IvfIndex.KindName, StringComparison.Ordinal))
        {
            index = CreateIvf(current, description, tokens, at, metric);
        }
        else
        {
            index = CreateBase(current, tokens[at], metric)
                ?? throw Bad(description, at + 1, tokens[at], "is not a known index kind (known: Flat, HNSW<M>, SQ8, SQ4, SQfp16, PQ<M>, PQ<M>x<bits>, IVF<n>,<encoding>; transforms PCA<d>, PCAW<d>, PCAR<d>, PCAWR<d>, OPQ<M>, OPQ<M>_<d> go before them)");
            if (tokens.Length > at + 1)
                throw Bad(description, at + 2, tokens[at + 1], $"cannot follow {tokens[at]}, which takes no further encoding or refinement in this release");
        }
        if (transforms.Count == 0) return index;
        // OPQ optimises its rotation for the product quantizer that follows, so it shares that quantizer's code width.
        int bits = index switch
        {
            PqIndex pq => pq.Quantizer.BitsPerCode,
            IvfIndex { Encoding.Kind: IvfEncodingKind.ProductQuantizer } ivf => ivf.Encoding.BitsPerCode,
            _ => 8,
        };
        return new TransformedIndex(transforms.Select(create => create(bits)).ToArray(), index);
    }

    // PCA<d>, PCAW<d> (whitened), PCAR<d> (randomly rotated), PCAWR<d>; OPQ<M> or OPQ<M>_<d>, as in Faiss.
    // Returns null when the token is not a transform; the function takes the bits per code of a following PQ.
    private static Func<int, IVectorTransform>? TryParseTransform(string description, int position, string token, ref int dimension)
    {
        int input = dimension;
        if (token.StartsWith(PcaTransform.KindName, StringComparison.Ordinal))
        {
            string rest = token[PcaTransform.KindName.Length..];
            bool whiten = rest.StartsWith('W');
            if (whiten) rest = rest[1..];
            bool rotate = rest.StartsWith('R');
            if (rotate) rest = rest[1..];
            if (!int.TryParse(rest, NumberStyles.None, CultureInfo.InvariantCulture, out int output) || output < 1 || output > input)
                throw Bad(description, position + 1, token, $"needs an output dimension from 1 to the input dimension {input}, e.g. PCA64, PCAW64, PCAR64 or PCAWR64");
            dimension = output;
            return _ => new PcaTransform(input, output, whiten, whiten ? 1e-6f : 0f, rotate);
        }
        if (token.StartsWith(OpqTransform.KindName, StringComparison.Ordinal))
        {
            string[] parts = token[OpqTransform.KindName.Length..].Split('_');
            int output = input;
            if (parts.Length > 2
                || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int m) || m < 1
                || (parts.Length == 2 && (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out output) || output < 1 || output > input)))
                throw Bad(description, position + 1, token, $"needs its sub-quantizer count M and optionally an output dimension up to {input}, e.g. OPQ16 or OPQ16_64");
            if (output % m != 0)
                throw Bad(description, position + 1, token, $"has an output dimension {output} that is not a multiple of M = {m}");
            dimension = output;
            return bits => new OpqTransform(input, m, output, bits);
        }
        return null;
    }

    private static IVectorIndex? CreateBase(int dimension, string token, Metric metric)
    {
        if (token == FlatIndex.KindName)
            return new FlatIndex(dimension, metric);
        if (ScalarQuantizerTypes.TryGetValue(token, out ScalarQuantizerType type))
            return new ScalarQuantizerIndex(dimension, type, metric);
        if (token.StartsWith(PqIndex.KindName, StringComparison.Ordinal))
            return CreatePq(dimension, token, metric);
        if (token.StartsWith(HnswIndex.KindName, StringComparison.Ordinal))
        {
            string digits = token[HnswIndex.KindName.Length..];
            if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int m) || m < 2 || m > 1024)
                throw new ArgumentException($"Index token \"{token}\": HNSW needs its link count M as a whole number from 2 to 1024, e.g. HNSW32.");
            return new HnswIndex(dimension, metric, m);
        }
        return null;
    }

    // "IVF<lists>[_HNSW<M>],<encoding>" at token index `at`: an inverted file whose coarse quantizer is flat, or an HNSW graph.
    private static IvfIndex CreateIvf(int dimension, string description, string[] tokens, int at, Metric metric)
    {
        string token = tokens[at];
        string[] parts = token[IvfIndex.KindName.Length..].Split('_');
        if (parts.Length > 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int lists) || lists < 1)
            throw Bad(description, at + 1, token, "needs the list count as a whole number, optionally with an HNSW coarse quantizer, e.g. IVF1024 or IVF65536_HNSW32");
        if (tokens.Length != at + 2)
            throw Bad(description, tokens.Length < at + 2 ? at + 1 : at + 3, tokens[^1], "must be followed by exactly one list encoding (Flat, SQ8, SQ4, SQfp16, PQ<M> or PQ<M>x<bits>), e.g. IVF1024,Flat");
        Metric coarseMetric = metric == Metric.L2 ? Metric.L2 : Metric.InnerProduct;
        IVectorIndex? coarse = null;
        if (parts.Length == 2)
        {
            coarse = (parts[1].StartsWith(HnswIndex.KindName, StringComparison.Ordinal) ? CreateBase(dimension, parts[1], coarseMetric) : null) as HnswIndex
                ?? throw Bad(description, at + 1, token, "names an unknown coarse quantizer; only HNSW<M> may follow the underscore");
        }
        IvfEncoding encoding;
        try
        {
            encoding = IvfEncoding.Parse(tokens[at + 1]);
        }
        catch (ArgumentException e)
        {
            throw Bad(description, at + 2, tokens[at + 1], $"is not a list encoding ({e.Message})");
        }
        return new IvfIndex(dimension, lists, metric, encoding, coarse);
    }

    // PQ<M> (8-bit codes) or PQ<M>x<bits>, as in Faiss.
    private static PqIndex CreatePq(int dimension, string token, Metric metric)
    {
        string[] parts = token[PqIndex.KindName.Length..].Split('x');
        int bits = 8;
        if (parts.Length > 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int m) || m < 1
            || (parts.Length == 2 && (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out bits) || bits < 4 || bits > 8)))
            throw new ArgumentException($"Index token \"{token}\": PQ needs its sub-quantizer count M and optionally 4 to 8 bits per code, e.g. PQ16 or PQ32x4.");
        if (dimension % m != 0)
            throw new ArgumentException($"Index token \"{token}\": the dimension {dimension} is not a multiple of the sub-quantizer count {m}.");
        return new PqIndex(dimension, m, bits, metric);
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
