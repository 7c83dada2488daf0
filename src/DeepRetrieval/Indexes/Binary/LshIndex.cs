using System.Buffers;
using DeepRetrieval.Hashing;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Indexes.Binary;

/// <summary>
/// Locality-sensitive hashing index (Faiss <c>IndexLSH</c>, factory token <c>LSH&lt;nbits&gt;</c>): every vector is
/// hashed to <c>nbits</c> bits by a <see cref="RandomHyperplaneLsh"/> and queries are answered by exhaustive Hamming
/// search over the codes. It approximates angular distance: a pair at angle θ differs on a fraction θ / π of the bits
/// in expectation, so more bits give a finer estimate (nbits / 8 bytes per vector).
/// </summary>
/// <remarks>
/// <para><see cref="Metric.Cosine"/> (the constructor's default) reports the estimated cosine similarity
/// <c>cos(π · h / nbits)</c> of Hamming distance h, sorted descending; a range search with threshold t returns codes whose
/// estimate exceeds t. <see cref="Metric.Hamming"/> (the factory's default, as Faiss's <c>IndexLSH</c>) reports the raw
/// Hamming count h, sorted ascending; a range search returns h &lt; radius. Both rank by Hamming distance alone.
/// <see cref="Metric.L2"/> and <see cref="Metric.InnerProduct"/> are refused: the hash sees only directions, and its
/// distances are bit counts, not squared Euclidean distances. Files saved when Hamming counts were reported as
/// <see cref="Metric.L2"/> load as <see cref="Metric.Hamming"/>.</para>
/// <para>With <c>trainThresholds</c> each bit's threshold is learned on training vectors (see
/// <see cref="RandomHyperplaneLsh.TrainThresholds"/>) and the index must be trained before adds; without, it is ready
/// at once. For cosine, vectors and queries are normalised first (so a zero vector is rejected).</para>
/// <para>Equal distances are ordered by ascending id; missing neighbours are id −1 with distance NaN. Thread safety: searches, range searches, <c>Contains</c>, <c>Reconstruct</c>, <c>GetIds</c> and saves
/// may run concurrently with each other; training, adds and removes must not overlap anything else
/// (saves included; the table is in docs/indexes.md, and a stress test per kind holds it).</para>
/// </remarks>
public sealed class LshIndex : VectorIndex
{
    /// <summary>The kind name used by the factory and the index file.</summary>
    public const string KindName = IndexKinds.Lsh;

    // LSH<bits> (LSH<bits>t trains thresholds; plain LSH takes one bit per component), Faiss's spelling.
    internal static readonly IndexKindDescriptor Registration = new(KindName, ReadPayload)
    {
        Create = ParseToken,
        FactorySyntax = "LSH<bits>[t]",
    };

    private readonly bool _trainThresholds;
    private readonly RandomHyperplaneLsh _hasher;
    private readonly BinaryCodeStore _store;

    /// <summary>Creates an empty index.</summary>
    /// <param name="dimension">Components per vector.</param>
    /// <param name="bits">Bits per code: a positive multiple of 8 (Faiss's <c>nbits</c>).</param>
    /// <param name="metric"><see cref="Metric.Cosine"/> (estimated cosine) or <see cref="Metric.Hamming"/> (Hamming counts).</param>
    /// <param name="trainThresholds">Learn each bit's threshold (median projection) in <see cref="VectorIndex.Train"/>.</param>
    /// <param name="seed">Seed of the random hyperplanes.</param>
    /// <exception cref="ArgumentException">Bits not a positive multiple of 8, or a metric other than cosine and Hamming.</exception>
    public LshIndex(int dimension, int bits, Metric metric = Metric.Cosine, bool trainThresholds = false, int seed = 1234)
        : base(dimension, metric, allowHamming: true)
    {
        if (metric is not (Metric.Cosine or Metric.Hamming))
            throw new ArgumentException($"Random-hyperplane LSH ranks by the Hamming distance of hashes of directions; use Metric.Cosine (estimated cosine) or Metric.Hamming (bit counts), not {metric}.", nameof(metric));
        _hasher = new RandomHyperplaneLsh(dimension, bits, seed);
        _trainThresholds = trainThresholds;
        _store = new BinaryCodeStore(_hasher.CodeSize);
    }

    private LshIndex(RandomHyperplaneLsh hasher, Metric metric, bool trainThresholds) : base(hasher.Dimension, metric, allowHamming: true)
    {
        _hasher = hasher;
        _trainThresholds = trainThresholds;
        _store = new BinaryCodeStore(hasher.CodeSize);
    }

    /// <summary>Bits per code.</summary>
    public int Bits => _hasher.Bits;

    /// <summary>Bytes per code: <see cref="Bits"/> / 8.</summary>
    public int CodeSize => _hasher.CodeSize;

    /// <summary>The hasher that turns vectors into codes.</summary>
    public RandomHyperplaneLsh Hasher => _hasher;

    /// <summary>Whether <see cref="VectorIndex.Train"/> learns per-bit thresholds.</summary>
    public bool TrainsThresholds => _trainThresholds;

    /// <inheritdoc />
    public override long Count => _store.Count;

    /// <inheritdoc />
    public override string Kind => KindName;

    /// <inheritdoc />
    public override bool IsTrained => !_trainThresholds || _hasher.HasTrainedThresholds;

    /// <inheritdoc />
    public override long MemoryUsageBytes => _store.MemoryUsageBytes + ((long)_hasher.Directions.Length + _hasher.Thresholds.Length) * sizeof(float);

    /// <inheritdoc />
    public override bool Contains(long id) => _store.Contains(id);

    /// <inheritdoc />
    public override long[] GetIds() => _store.Ids();

    /// <summary>Copies the stored code of <paramref name="id"/>.</summary>
    /// <param name="id">A stored id.</param>
    /// <param name="destination">Receives <see cref="CodeSize"/> bytes.</param>
    /// <exception cref="KeyNotFoundException">The id is not stored.</exception>
    public void ReconstructCode(long id, Span<byte> destination)
    {
        if (destination.Length != CodeSize)
            throw new ArgumentException($"The destination must hold {CodeSize} bytes; got {destination.Length}.", nameof(destination));
        _store.CodeOf(id).CopyTo(destination);
    }

    /// <inheritdoc />
    protected override void TrainCore(ReadOnlySpan<float> vectors, int rows, IndexBuildOptions options)
    {
        if (!_trainThresholds) return;
        float[] prepared = vectors.ToArray();
        NormalizeForCosine(prepared, nameof(vectors));
        _hasher.TrainThresholds(prepared);
    }

    /// <inheritdoc />
    protected override void AddCore(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids, int rows)
    {
        _store.CheckAdd(ids, nameof(ids));
        float[]? normalized = null;
        byte[] codes = ArrayPool<byte>.Shared.Rent(rows * CodeSize);
        try
        {
            // Normalising the whole batch first rejects a zero vector before anything is stored.
            ReadOnlySpan<float> prepared = vectors;
            if (Metric == Metric.Cosine)
            {
                normalized = ArrayPool<float>.Shared.Rent(vectors.Length);
                vectors.CopyTo(normalized);
                NormalizeForCosine(normalized.AsSpan(0, vectors.Length), nameof(vectors));
                prepared = normalized.AsSpan(0, vectors.Length);
            }
            _hasher.EncodeUnchecked(prepared, codes.AsSpan(0, rows * CodeSize));
            _store.Append(codes.AsSpan(0, rows * CodeSize), ids);
        }
        finally
        {
            ReturnPooled(normalized);
            ArrayPool<byte>.Shared.Return(codes);
        }
    }

    /// <inheritdoc />
    protected override void SearchCore(ReadOnlySpan<float> queries, int rows, int k, Span<long> ids, Span<float> distances, SearchOptions options)
    {
        float[]? normalized = null;
        byte[] codes = ArrayPool<byte>.Shared.Rent(rows * CodeSize);
        try
        {
            ReadOnlySpan<float> prepared = PrepareQueries(queries, out normalized);
            _hasher.EncodeUnchecked(prepared, codes.AsSpan(0, rows * CodeSize));
            _store.Search(codes.AsSpan(0, rows * CodeSize), rows, k, ids, distances, options);
        }
        finally
        {
            ReturnPooled(normalized);
            ArrayPool<byte>.Shared.Return(codes);
        }
        if (Metric != Metric.Cosine) return;
        for (int i = 0; i < ids.Length; i++)
            if (ids[i] != SearchResult.MissingId) distances[i] = EstimatedCosine((int)distances[i]);
    }

    /// <inheritdoc />
    protected override RangeSearchResult RangeSearchCore(ReadOnlySpan<float> queries, int rows, float radius, SearchOptions options)
    {
        float[] prepared = queries.ToArray();
        NormalizeForCosine(prepared, nameof(queries));
        var codes = new byte[rows * CodeSize];
        _hasher.EncodeUnchecked(prepared, codes);
        if (Metric == Metric.Cosine)
        {
            // The estimate falls as the Hamming distance grows, so the accepted distances are 0 up to the first failing one.
            int limit = 0;
            while (limit <= Bits && EstimatedCosine(limit) > radius) limit++;
            return _store.RangeSearch(codes, rows, limit, EstimatedCosine, options);
        }
        int hammingLimit = (int)Math.Clamp(MathF.Ceiling(radius), 0f, Bits + 1f);
        return _store.RangeSearch(codes, rows, hammingLimit, h => h, options);
    }

    /// <inheritdoc />
    protected override int RemoveCore(ReadOnlySpan<long> ids) => _store.Remove(ids);

    /// <inheritdoc />
    protected override void WritePayload(IndexPayloadWriter writer)
    {
        if (!IsTrained)
            throw new InvalidOperationException("The LSH index must be trained before it is saved; call Train first.");
        writer.WriteInt32(Dimension);
        writer.WriteInt32((int)Metric);
        writer.WriteInt32(_trainThresholds ? 1 : 0);
        _hasher.Write(writer);
        writer.WriteInt64(NextId);
        _store.Write(writer);
    }

    internal static LshIndex ReadPayload(IndexPayloadReader reader)
    {
        int dimension = reader.ReadInt32("dimension", 1, 1 << 20);
        var metric = (Metric)reader.ReadInt32("metric", 0, (int)Metric.Hamming);
        if (metric == Metric.InnerProduct) throw reader.Corrupt("an LSH index cannot use the inner-product metric");
        if (metric == Metric.L2) metric = Metric.Hamming; // written before Hamming counts had their own metric
        bool trainThresholds = reader.ReadInt32("train-thresholds flag", 0, 1) == 1;
        RandomHyperplaneLsh hasher = RandomHyperplaneLsh.Read(reader, dimension);
        if (trainThresholds && !hasher.HasTrainedThresholds) throw reader.Corrupt("the thresholds were never trained");
        long nextId = reader.ReadInt64("next id", 0, long.MaxValue);
        var index = new LshIndex(hasher, metric, trainThresholds) { NextId = nextId };
        index._store.Read(reader, nextId);
        return index;
    }

    private static IIndex? ParseToken(IndexFactoryCursor cursor)
    {
        if (!IndexFactoryCursor.TryMatch(cursor.Token, "LSH", out string rest)) return null;
        bool thresholds = rest.EndsWith('t');
        string digits = thresholds ? rest[..^1] : rest;
        int bits = cursor.Dimension;
        if (digits.Length > 0 && !IndexFactoryCursor.TryParseCount(digits, out bits))
            throw cursor.Error("needs its bit count, e.g. LSH256 (or LSH256t to train thresholds)");
        Metric metric = cursor.RequestedMetric ?? Metric.Hamming;
        if (metric is not (Metric.Hamming or Metric.Cosine))
            throw cursor.Error($"ranks by the Hamming distance of hashes; ask for Metric.Hamming (bit counts, the default) or Metric.Cosine (the estimated cosine), not {metric}");
        return cursor.Build(() => new LshIndex(cursor.Dimension, bits, metric, thresholds));
    }

    private float EstimatedCosine(int hamming) => MathF.Cos(MathF.PI * hamming / Bits);
}
