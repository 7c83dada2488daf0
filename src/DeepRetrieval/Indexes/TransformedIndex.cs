using System.Buffers;
using DeepRetrieval.Persistence;
using DeepRetrieval.Transforms;

namespace DeepRetrieval.Indexes;

/// <summary>
/// A chain of vector transforms (PCA, OPQ, …) in front of another index (Faiss <c>IndexPreTransform</c>): every vector
/// added and every query is mapped through the transforms in order, and the inner index stores and searches the result.
/// </summary>
/// <remarks>
/// <para><see cref="VectorIndex.Train"/> trains, in order, each transform that is not yet trained on the output of the
/// transforms before it, and then the inner index on the output of the whole chain if it is not yet trained; parts
/// that are already trained are left alone (so transforms trained elsewhere can be reused), as in Faiss.</para>
/// <para>Distances are those the inner index computes in the transformed space, and the metric is the inner index's.
/// For <see cref="Metric.Cosine"/> a zero input vector is rejected (it has no direction, whatever the transforms make of
/// it) and the inner index normalises the transformed vectors. Ids, removal and filters are the inner index's;
/// search-time parameters are passed to it. <see cref="VectorIndex.Reconstruct"/> reconstructs in the inner index and maps
/// the result back through each transform's inverse (Faiss's <c>reverse_transform</c>), so it is approximate, and
/// unavailable when a transform has no inverse. Thread safety: searches, range searches, <c>Contains</c>, <c>Reconstruct</c>, <c>GetIds</c> and saves
/// may run concurrently with each other if the inner index allows
/// it; training, adds and removes must not overlap anything else
/// (saves included; the table is in docs/indexes.md, and a stress test per kind holds it).</para>
/// </remarks>
public sealed class TransformedIndex : VectorIndex
{
    /// <summary>The kind name used by the index file.</summary>
    public const string KindName = IndexKinds.PreTransform;

    // Built by the factory from leading transform tokens rather than a token of its own.
    internal static readonly IndexKindDescriptor Registration = new(KindName, ReadPayload);

    private const int MaxTransforms = 64;

    private readonly IVectorTransform[] _transforms;
    private readonly int _widest; // largest dimension anywhere in the chain: the size of the scratch rows

    /// <summary>Creates an index that maps vectors through <paramref name="transforms"/> before <paramref name="inner"/>.</summary>
    /// <param name="transforms">Applied in order; each one's output dimension must be the next one's input dimension, and the last one's the inner index's dimension. May be empty.</param>
    /// <param name="inner">The index that stores the transformed vectors; it should be empty.</param>
    /// <exception cref="ArgumentException">The dimensions do not chain, or the inner index already holds vectors.</exception>
    public TransformedIndex(IReadOnlyList<IVectorTransform> transforms, IVectorIndex inner) : this(transforms, inner, loading: false) { }

    /// <summary>Creates an index with a single transform in front of <paramref name="inner"/>.</summary>
    /// <param name="transform">The transform; its output dimension must be the inner index's dimension.</param>
    /// <param name="inner">The index that stores the transformed vectors; it should be empty.</param>
    public TransformedIndex(IVectorTransform transform, IVectorIndex inner) : this([transform], inner) { }

    // Loading reassembles an index whose inner part already holds the transformed vectors.
    private TransformedIndex(IReadOnlyList<IVectorTransform> transforms, IVectorIndex inner, bool loading)
        : base(CheckChain(transforms, inner), inner.Metric, allowHamming: true)
    {
        if ((inner as VectorIndex)?.NestingDepth >= IndexFileFormat.MaxNestingDepth)
            throw new ArgumentException($"The inner index is nested {((VectorIndex)inner).NestingDepth} deep; a pre-transform around it would exceed the {IndexFileFormat.MaxNestingDepth} levels an index file allows.", nameof(inner));
        if (!loading && inner.Count > 0)
            throw new ArgumentException($"The inner index already holds {inner.Count} vectors that were not transformed; give an empty index.", nameof(inner));
        _transforms = [.. transforms];
        Inner = inner;
        _widest = Math.Max(Dimension, _transforms.Length == 0 ? 0 : _transforms.Max(t => t.OutputDimension));
    }

    /// <summary>The transforms, in the order they are applied.</summary>
    public IReadOnlyList<IVectorTransform> Transforms => _transforms;

    /// <summary>The index that stores the transformed vectors.</summary>
    public IVectorIndex Inner { get; }

    /// <inheritdoc />
    public override long Count => Inner.Count;

    /// <inheritdoc />
    public override string Kind => KindName;

    /// <inheritdoc />
    public override bool IsTrained
    {
        get
        {
            // A loop, not LINQ: searches check this on every call and must not allocate.
            foreach (IVectorTransform transform in _transforms)
                if (!transform.IsTrained) return false;
            return Inner.IsTrained;
        }
    }

    /// <summary>
    /// Approximate when every transform has an inverse and the inner index can reconstruct; None otherwise, and None for
    /// <see cref="Metric.Cosine"/> behind a transform: the inner index keeps only the direction of the transformed vector,
    /// and the inverse of a centring transform needs its length too.
    /// </summary>
    public override ReconstructionKind Reconstruction
    {
        get
        {
            if (Metric == Metric.Cosine && _transforms.Length > 0) return ReconstructionKind.None;
            foreach (IVectorTransform transform in _transforms)
                if (transform is not IReversibleVectorTransform) return ReconstructionKind.None;
            if (Inner.Reconstruction == ReconstructionKind.None) return ReconstructionKind.None;
            return _transforms.Length == 0 ? Inner.Reconstruction : ReconstructionKind.Approximate;
        }
    }

    /// <inheritdoc />
    public override bool Contains(long id) => Inner.Contains(id);

    /// <inheritdoc />
    public override long[] GetIds() => Inner.GetIds();

    internal override int NestingDepth => 1 + ((Inner as VectorIndex)?.NestingDepth ?? 1);

    /// <summary>The inner index's memory plus the transforms' matrices (input × output floats each, an estimate).</summary>
    public override long MemoryUsageBytes =>
        Inner.MemoryUsageBytes + _transforms.Sum(t => (long)t.InputDimension * t.OutputDimension * sizeof(float));

    /// <summary>Maps row-major vectors through every transform.</summary>
    /// <param name="vectors">Whole rows of <see cref="VectorIndex.Dimension"/> finite values.</param>
    /// <returns>As many rows of the inner index's dimension.</returns>
    /// <exception cref="InvalidOperationException">A transform is not trained.</exception>
    public float[] ApplyTransforms(ReadOnlySpan<float> vectors)
    {
        int rows = CheckVectors(vectors, nameof(vectors));
        RequireTransformsTrained();
        var output = new float[(long)rows * Inner.Dimension];
        ApplyChain(vectors, rows, output);
        return output;
    }

    /// <inheritdoc />
    public override void SetSearchParameter(string name, double value) => Inner.SetSearchParameter(name, value);

    /// <inheritdoc />
    protected override void TrainCore(ReadOnlySpan<float> vectors, int rows, IndexBuildOptions options)
    {
        RejectZeroRows(vectors, nameof(vectors));
        float[]? current = null;
        int parts = _transforms.Length + 1;
        for (int i = 0; i < _transforms.Length; i++)
        {
            IVectorTransform transform = _transforms[i];
            ReadOnlySpan<float> input = current ?? vectors;
            options.CancellationToken.ThrowIfCancellationRequested();
            if (!transform.IsTrained) transform.Train(input);
            options.Progress?.Report(new IndexProgress("transforms", i + 1, parts));
            if (IsTrained) return;
            var output = new float[(long)rows * transform.OutputDimension];
            transform.Apply(input, output);
            current = output;
        }
        if (!Inner.IsTrained) Inner.Train(current ?? vectors, options);
        options.Progress?.Report(new IndexProgress("transforms", parts, parts));
    }

    /// <inheritdoc />
    protected override void ReconstructCore(long id, Span<float> destination)
    {
        if (_transforms.Length == 0)
        {
            Inner.Reconstruct(id, destination);
            return;
        }
        float[] first = ArrayPool<float>.Shared.Rent(_widest);
        float[] second = ArrayPool<float>.Shared.Rent(_widest);
        try
        {
            Span<float> current = first.AsSpan(0, Inner.Dimension);
            Inner.Reconstruct(id, current);
            for (int i = _transforms.Length - 1; i >= 0; i--)
            {
                var transform = (IReversibleVectorTransform)_transforms[i];
                Span<float> target = i == 0 ? destination : (current.Overlaps(first) ? second : first).AsSpan(0, transform.InputDimension);
                transform.ReverseTransform(current, target);
                current = target;
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(first);
            ArrayPool<float>.Shared.Return(second);
        }
    }

    /// <inheritdoc />
    protected override void AddCore(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids, int rows)
    {
        RejectZeroRows(vectors, nameof(vectors));
        float[] mapped = ArrayPool<float>.Shared.Rent(rows * Inner.Dimension);
        try
        {
            ApplyChain(vectors, rows, mapped.AsSpan(0, rows * Inner.Dimension));
            Inner.Add(mapped.AsSpan(0, rows * Inner.Dimension), ids);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(mapped);
        }
    }

    /// <inheritdoc />
    protected override void SearchCore(ReadOnlySpan<float> queries, int rows, int k, Span<long> ids, Span<float> distances, SearchOptions options)
    {
        RejectZeroRows(queries, nameof(queries));
        float[] mapped = ArrayPool<float>.Shared.Rent(rows * Inner.Dimension);
        try
        {
            ApplyChain(queries, rows, mapped.AsSpan(0, rows * Inner.Dimension));
            Inner.Search(mapped.AsSpan(0, rows * Inner.Dimension), k, ids, distances, options);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(mapped);
        }
    }

    /// <inheritdoc />
    protected override RangeSearchResult RangeSearchCore(ReadOnlySpan<float> queries, int rows, float radius, SearchOptions options)
    {
        RejectZeroRows(queries, nameof(queries));
        float[] mapped = ArrayPool<float>.Shared.Rent(rows * Inner.Dimension);
        try
        {
            ApplyChain(queries, rows, mapped.AsSpan(0, rows * Inner.Dimension));
            return Inner.RangeSearch(mapped.AsSpan(0, rows * Inner.Dimension), radius, options);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(mapped);
        }
    }

    /// <inheritdoc />
    protected override int RemoveCore(ReadOnlySpan<long> ids) => Inner.Remove(ids);

    /// <inheritdoc />
    protected override void WritePayload(IndexPayloadWriter writer)
    {
        if (!IsTrained)
            throw new InvalidOperationException("The PreTransform index must be trained before it is saved; call Train first.");
        // Checked first, so an unsavable transform fails before a byte is written.
        foreach (IVectorTransform transform in _transforms)
            if (!IndexRegistry.TryGetTransformKind(transform.Kind, out _))
                throw new InvalidOperationException($"The transform kind \"{transform.Kind}\" ({transform.GetType().Name}) cannot be saved: it is not registered (known: {string.Join(", ", IndexRegistry.TransformKinds.Select(k => k.Name))}). Register a TransformKind for it with IndexRegistry.Register.");
        writer.WriteInt32(Dimension);
        writer.WriteInt64(NextId);
        writer.WriteInt32(_transforms.Length);
        foreach (IVectorTransform transform in _transforms) writer.WriteTransform(transform);
        writer.WriteIndex(Inner);
    }

    internal static TransformedIndex ReadPayload(IndexPayloadReader reader)
    {
        int dimension = reader.ReadInt32("dimension", 1, 1 << 20);
        long nextId = reader.ReadInt64("next id", 0, long.MaxValue);
        int count = reader.ReadInt32("transform count", 0, MaxTransforms);
        var transforms = new IVectorTransform[count];
        for (int i = 0; i < count; i++) transforms[i] = reader.ReadTransform($"transform {i}");
        IVectorIndex inner = reader.ReadIndex("inner index");
        TransformedIndex index;
        try
        {
            index = new TransformedIndex(transforms, inner, loading: true);
        }
        catch (ArgumentException e)
        {
            throw reader.Corrupt(e.Message);
        }
        if (index.Dimension != dimension)
            throw reader.Corrupt($"the transforms take dimension {index.Dimension} but the index has dimension {dimension}");
        // Save requires a trained chain and writes a next id above every id the inner index holds.
        for (int i = 0; i < transforms.Length; i++)
            if (!transforms[i].IsTrained) throw reader.Corrupt($"transform {i} ({transforms[i].Kind}) is not trained");
        if (!inner.IsTrained) throw reader.Corrupt($"the inner {inner.Kind} index is not trained");
        if (inner.Count > 0)
        {
            long largest = inner.GetIds().Max();
            if (largest >= nextId)
                throw reader.Corrupt($"the next id {nextId} is not above the inner index's id {largest}, so the next automatic id would collide with it");
        }
        index.NextId = nextId;
        return index;
    }

    private static int CheckChain(IReadOnlyList<IVectorTransform> transforms, IVectorIndex inner)
    {
        ArgumentNullException.ThrowIfNull(transforms);
        ArgumentNullException.ThrowIfNull(inner);
        if (transforms.Count > MaxTransforms)
            throw new ArgumentException($"At most {MaxTransforms} transforms can be chained; got {transforms.Count}.", nameof(transforms));
        for (int i = 0; i < transforms.Count; i++)
        {
            if (transforms[i] is null) throw new ArgumentException($"Transform {i} is null.", nameof(transforms));
            int next = i + 1 < transforms.Count ? transforms[i + 1].InputDimension : inner.Dimension;
            string nextName = i + 1 < transforms.Count ? $"transform {i + 1} ({transforms[i + 1].Kind}) takes" : "the inner index has";
            if (transforms[i].OutputDimension != next)
                throw new ArgumentException($"Transform {i} ({transforms[i].Kind}) outputs dimension {transforms[i].OutputDimension} but {nextName} dimension {next}.", nameof(transforms));
        }
        return transforms.Count > 0 ? transforms[0].InputDimension : inner.Dimension;
    }

    // Two pooled rows' worth of scratch per chunk: each transform reads one buffer and writes the other.
    private void ApplyChain(ReadOnlySpan<float> vectors, int rows, Span<float> output)
    {
        if (_transforms.Length == 0)
        {
            vectors.CopyTo(output);
            return;
        }
        if (_transforms.Length == 1)
        {
            _transforms[0].Apply(vectors, output);
            return;
        }
        float[] first = ArrayPool<float>.Shared.Rent(rows * _widest);
        float[] second = ArrayPool<float>.Shared.Rent(rows * _widest);
        try
        {
            ReadOnlySpan<float> input = vectors;
            for (int i = 0; i < _transforms.Length; i++)
            {
                IVectorTransform transform = _transforms[i];
                Span<float> target = i == _transforms.Length - 1 ? output
                    : (i % 2 == 0 ? first : second).AsSpan(0, rows * transform.OutputDimension);
                transform.Apply(input, target);
                input = target;
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(first);
            ArrayPool<float>.Shared.Return(second);
        }
    }

    private void RequireTransformsTrained()
    {
        for (int i = 0; i < _transforms.Length; i++)
            if (!_transforms[i].IsTrained)
                throw new InvalidOperationException($"Transform {i} ({_transforms[i].Kind}) must be trained first; call Train.");
    }
}
