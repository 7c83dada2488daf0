using System.Globalization;
using DeepRetrieval.Quantization;
using DeepRetrieval.Transforms;

namespace DeepRetrieval.Indexes;

/// <summary>
/// Builds any index of this library from a short description string, as Faiss's <c>index_factory</c>: comma-separated
/// tokens read left to right — optional transforms, one index (with its encoding), optional refinement.
/// </summary>
/// <remarks>
/// <para>Transforms (each feeds the next; the index gets the last one's output dimension):
/// <c>PCA&lt;d&gt;</c>, <c>PCAW&lt;d&gt;</c> (whitened), <c>PCAR&lt;d&gt;</c> (randomly rotated after projection), <c>PCAWR&lt;d&gt;</c>,
/// <c>OPQ&lt;M&gt;</c> or <c>OPQ&lt;M&gt;_&lt;d&gt;</c> (rotation learnt for a PQ with M sub-quantizers, optionally to d dimensions),
/// <c>ITQ&lt;b&gt;</c> (PCA to b dimensions and the ITQ rotation).</para>
/// <para>Indexes: <c>Flat</c>; <c>HNSW&lt;M&gt;</c>, optionally followed by <c>Flat</c>, <c>SQ8</c>, <c>SQ4</c> or <c>SQfp16</c> for the stored
/// vectors; <c>SQ8</c>, <c>SQ4</c>, <c>SQfp16</c>; <c>PQ&lt;M&gt;</c> or <c>PQ&lt;M&gt;x&lt;bits&gt;</c>; <c>IVF&lt;lists&gt;</c> or
/// <c>IVF&lt;lists&gt;_HNSW&lt;M&gt;</c> followed by a list encoding (<c>Flat</c>, <c>SQ8</c>, <c>SQ4</c>, <c>SQfp16</c>, <c>PQ&lt;M&gt;[x&lt;bits&gt;]</c>);
/// <c>LSH&lt;bits&gt;</c> (<c>LSH&lt;bits&gt;t</c> trains thresholds; plain <c>LSH</c> takes one bit per component); <c>BFlat</c> (sign bits of each component, Hamming search); <c>KDTree</c>; <c>RPForest&lt;trees&gt;[_&lt;leaf size&gt;]</c>.</para>
/// <para>Refinement: a final <c>RFlat</c> keeps the raw vectors and re-ranks the index's candidates with exact distances.</para>
/// <para>Examples: <c>HNSW32,SQ8</c>, <c>IVF1024,PQ16</c>, <c>OPQ16,IVF1024,PQ16</c>, <c>PCA128,IVF4096,PQ32</c>,
/// <c>IVF65536_HNSW32,PQ32</c>, <c>IVF1024,PQ16,RFlat</c>, <c>ITQ64,BFlat</c>. Tokens are case-sensitive, as in Faiss.
/// Faiss's guidance for the size of the list count: about 4√N to 16√N lists below a million vectors (<c>IVF1024</c> for
/// 60k), <c>IVF65536_HNSW32</c> from one to ten million, <c>IVF262144_HNSW32</c> and up beyond.</para>
/// </remarks>
public static class IndexFactory
{
    private const string KnownIndexes = "Flat, HNSW<M>, SQ8, SQ4, SQfp16, PQ<M>, IVF<n>, LSH<bits>, BFlat, KDTree, RPForest<trees>[_<leaf>]";

    /// <summary>Creates an empty index described by <paramref name="description"/>.</summary>
    /// <param name="dimension">Components per input vector.</param>
    /// <param name="description">For example <c>Flat</c>, <c>HNSW32,SQ8</c> or <c>OPQ16,IVF1024,PQ16,RFlat</c>.</param>
    /// <param name="metric">How vectors are compared.</param>
    /// <exception cref="ArgumentException">The string is empty, or a token is unknown, malformed, misplaced or does not fit the
    /// dimension; the message names the token and its position.</exception>
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
        return new Parser(description, tokens, metric).Build(dimension);
    }

    private sealed class Parser(string description, string[] tokens, Metric metric)
    {
        private int _position;

        public IVectorIndex Build(int dimension)
        {
            var transforms = new List<IVectorTransform>();
            int width = dimension;
            while (_position < tokens.Length && TryTransform(width) is { } transform)
            {
                transforms.Add(transform);
                width = transform.OutputDimension;
                _position++;
            }
            if (_position == tokens.Length)
                throw Bad(_position, "is a transform; an index must follow it, e.g. \"" + string.Join(',', tokens) + ",Flat\"");

            IVectorIndex index = Index(width);
            bool refine = false;
            if (_position < tokens.Length && Current == "RFlat")
            {
                refine = true;
                _position++;
            }
            if (_position < tokens.Length)
                throw Bad(_position + 1, $"cannot follow \"{tokens[_position - 1]}\"; only RFlat may end a description");
            if (transforms.Count > 0) index = new TransformedIndex(transforms, index);
            if (refine) index = new RefineFlatIndex(index);
            return index;
        }

        private string Current => tokens[_position];

        private IVectorTransform? TryTransform(int width)
        {
            string token = Current;
            if (Prefixed(token, "PCAWR", out string rest) || Prefixed(token, "PCAW", out rest) || Prefixed(token, "PCAR", out rest) || Prefixed(token, "PCA", out rest))
            {
                int output = OutputWidth(rest, width, "PCA needs its output dimension, e.g. PCA128");
                bool whiten = token.StartsWith("PCAW", StringComparison.Ordinal);
                bool rotate = token.StartsWith("PCAR", StringComparison.Ordinal) || token.StartsWith("PCAWR", StringComparison.Ordinal);
                return Construct(() => new PcaTransform(width, output, whiten, randomRotation: rotate));
            }
            if (Prefixed(token, "OPQ", out rest))
            {
                string[] parts = rest.Split('_');
                if (parts.Length > 2 || !TryCount(parts[0], out int m))
                    throw Bad(_position + 1, "needs the sub-quantizer count and optionally the output dimension, e.g. OPQ16 or OPQ16_64");
                int output = parts.Length == 2 ? OutputWidth(parts[1], width, "OPQ's output dimension must be a whole number, e.g. OPQ16_64") : width;
                if (output % m != 0)
                    throw Bad(_position + 1, $"needs its output dimension {output} to be a multiple of its {m} sub-quantizers");
                int bits = FollowingPqBits();
                return Construct(() => new OpqTransform(width, m, output, bits));
            }
            if (Prefixed(token, "ITQ", out rest))
            {
                int output = OutputWidth(rest, width, "ITQ needs its bit count, e.g. ITQ64");
                return Construct(() => new ItqTransform(width, output));
            }
            return null;
        }

        // OPQ learns its rotation for the PQ that follows it, so it borrows that PQ's bits per code (8 when there is none).
        private int FollowingPqBits()
        {
            for (int i = _position + 1; i < tokens.Length; i++)
            {
                try
                {
                    if (tokens[i].StartsWith("PQ", StringComparison.Ordinal) && IvfEncoding.Parse(tokens[i]) is { Kind: IvfEncodingKind.ProductQuantizer } pq)
                        return pq.BitsPerCode;
                }
                catch (ArgumentException)
                {
                    return 8; // reported against the PQ token itself later
                }
            }
            return 8;
        }

        private IVectorIndex Index(int width)
        {
            string token = Current;
            int at = _position++;
            if (token == "Flat") return new FlatIndex(width, metric);
            if (token == "BFlat")
            {
                if (metric != Metric.L2)
                    throw Bad(at + 1, $"compares sign bits by Hamming distance, where smaller is closer, and so reports Metric.L2; {metric} was asked for");
                return Construct(() => new BinaryFlatIndex(width), at);
            }
            if (token == "KDTree") return Construct(() => new KdTreeIndex(width, metric), at);
            if (ScalarTypes.TryGetValue(token, out ScalarQuantizerType scalar)) return new ScalarQuantizerIndex(width, scalar, metric);
            if (Prefixed(token, "HNSW", out string rest))
            {
                if (!TryCount(rest, out int m) || m is < 2 or > 1024)
                    throw Bad(at + 1, "needs its link count M as a whole number from 2 to 1024, e.g. HNSW32");
                if (_position < tokens.Length && Current == "Flat")
                {
                    _position++;
                    return new HnswIndex(width, metric, m);
                }
                if (_position < tokens.Length && ScalarTypes.TryGetValue(Current, out scalar))
                {
                    _position++;
                    return new HnswIndex(width, scalar, metric, m);
                }
                return new HnswIndex(width, metric, m);
            }
            if (Prefixed(token, "PQ", out _))
            {
                IvfEncoding pq = Encoding(at, width);
                return Construct(() => new PqIndex(width, pq.SubQuantizers, pq.BitsPerCode, metric), at);
            }
            if (Prefixed(token, "IVF", out rest)) return Ivf(width, rest, at);
            if (Prefixed(token, "LSH", out rest))
            {
                // Faiss's spelling: LSH<bits>, "t" to train per-bit thresholds; plain LSH takes one bit per component.
                bool thresholds = rest.EndsWith('t');
                string digits = thresholds ? rest[..^1] : rest;
                int bits = width;
                if (digits.Length > 0 && !TryCount(digits, out bits))
                    throw Bad(at + 1, "needs its bit count, e.g. LSH256 (or LSH256t to train thresholds)");
                return Construct(() => new LshIndex(width, bits, metric, thresholds), at);
            }
            if (Prefixed(token, "RPForest", out rest))
            {
                // RPForest<trees>[_<leaf size>], the underscore parameter as in OPQ16_64.
                string[] parts = rest.Split('_');
                int leafSize = 0;
                if (parts.Length > 2 || !TryCount(parts[0], out int trees) || (parts.Length == 2 && !TryCount(parts[1], out leafSize)))
                    throw Bad(at + 1, "needs its tree count and optionally a leaf size, e.g. RPForest10 or RPForest10_64");
                return Construct(() => new RandomProjectionForestIndex(width, trees, metric, leafSize), at);
            }
            if (token == "RFlat")
                throw Bad(at + 1, "refines an index, so an index must come before it, e.g. IVF1024,PQ16,RFlat");
            throw Bad(at + 1, $"is not a known transform or index (indexes: {KnownIndexes}; transforms: PCA<d>, PCAW<d>, PCAR<d>, OPQ<M>[_<d>], ITQ<bits>)");
        }

        // "IVF<lists>[_HNSW<M>],<encoding>": an inverted file whose coarse quantizer is exact, or an HNSW graph for many lists.
        private IvfIndex Ivf(int width, string rest, int at)
        {
            string[] parts = rest.Split('_');
            if (parts.Length > 2 || !TryCount(parts[0], out int lists))
                throw Bad(at + 1, "needs the list count as a whole number, optionally with an HNSW coarse quantizer, e.g. IVF1024 or IVF65536_HNSW32");
            IVectorIndex? coarse = null;
            if (parts.Length == 2)
            {
                if (!Prefixed(parts[1], "HNSW", out string links) || !TryCount(links, out int m) || m is < 2 or > 1024)
                    throw Bad(at + 1, "names an unknown coarse quantizer after the underscore; only HNSW<M> (M from 2 to 1024) may follow it, e.g. IVF65536_HNSW32");
                coarse = new HnswIndex(width, metric == Metric.L2 ? Metric.L2 : Metric.InnerProduct, m);
            }
            if (_position == tokens.Length)
                throw Bad(at + 1, "must be followed by a list encoding (Flat, SQ8, SQ4, SQfp16, PQ<M> or PQ<M>x<bits>), e.g. IVF1024,Flat");
            IvfEncoding encoding = Encoding(_position++, width);
            return Construct(() => new IvfIndex(width, lists, metric, encoding, coarse), at);
        }

        private IvfEncoding Encoding(int at, int width)
        {
            IvfEncoding encoding;
            try
            {
                encoding = IvfEncoding.Parse(tokens[at]);
            }
            catch (ArgumentException) when (tokens[at].StartsWith("PQ", StringComparison.Ordinal))
            {
                throw Bad(at + 1, "is malformed: PQ needs its sub-quantizer count M and optionally x and 4 to 8 bits per code, e.g. PQ16 or PQ16x4");
            }
            catch (ArgumentException)
            {
                throw Bad(at + 1, "is not a list encoding; use Flat, SQ8, SQ4, SQfp16, PQ<M> or PQ<M>x<bits>");
            }
            if (encoding.Kind == IvfEncodingKind.ProductQuantizer && width % encoding.SubQuantizers != 0)
                throw Bad(at + 1, $"does not fit: the dimension {width} is not a multiple of the sub-quantizer count {encoding.SubQuantizers}");
            return encoding;
        }

        private int OutputWidth(string digits, int width, string usage)
        {
            if (!TryCount(digits, out int output)) throw Bad(_position + 1, $"is malformed: {usage}");
            if (output > width) throw Bad(_position + 1, $"asks for {output} output dimensions from {width} input dimensions; a transform here can only reduce or keep the dimension");
            return output;
        }

        // Constructor checks (say, PQ16 on a dimension that 16 does not divide) are reported against the token.
        private T Construct<T>(Func<T> create, int? at = null)
        {
            try
            {
                return create();
            }
            catch (ArgumentException e)
            {
                throw Bad((at ?? _position) + 1, $"does not fit here: {e.Message}");
            }
        }

        private ArgumentException Bad(int position, string problem) =>
            new($"Index description \"{description}\": token {position} \"{tokens[Math.Min(position, tokens.Length) - 1]}\" {problem}.", "description");

        private static bool Prefixed(string token, string prefix, out string rest)
        {
            bool match = token.StartsWith(prefix, StringComparison.Ordinal) && token.Length > prefix.Length && char.IsAsciiDigit(token[prefix.Length])
                || token == prefix;
            rest = match ? token[prefix.Length..] : "";
            return match;
        }

        private static bool TryCount(string digits, out int value) =>
            int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value > 0;
    }

    private static readonly Dictionary<string, ScalarQuantizerType> ScalarTypes = new(StringComparer.Ordinal)
    {
        ["SQ8"] = ScalarQuantizerType.SQ8,
        ["SQ4"] = ScalarQuantizerType.SQ4,
        ["SQfp16"] = ScalarQuantizerType.Fp16,
    };
}
