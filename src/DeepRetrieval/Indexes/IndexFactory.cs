using DeepRetrieval.Transforms;

namespace DeepRetrieval.Indexes;

/// <summary>
/// Builds any registered index from a short description string, as Faiss's <c>index_factory</c>: comma-separated tokens
/// read left to right — optional transforms, one index (with its encoding), optional wrappers such as refinement. Every
/// token is parsed by the kind that owns it in <see cref="IndexRegistry"/>, so an application's registered kinds are
/// spelled the same way.
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
/// <para>Metric: when none is given each kind takes its natural one: <see cref="Metric.L2"/> for float indexes and
/// <see cref="Metric.Hamming"/> for <c>BFlat</c> and <c>LSH</c>.</para>
/// <para>Examples: <c>HNSW32,SQ8</c>, <c>IVF1024,PQ16</c>, <c>OPQ16,IVF1024,PQ16</c>, <c>PCA128,IVF4096,PQ32</c>,
/// <c>IVF65536_HNSW32,PQ32</c>, <c>IVF1024,PQ16,RFlat</c>, <c>ITQ64,BFlat</c>. Tokens are case-sensitive, as in Faiss.
/// Faiss's guidance for the size of the list count: about 4√N to 16√N lists below a million vectors (<c>IVF1024</c> for
/// 60k), <c>IVF65536_HNSW32</c> from one to ten million, <c>IVF262144_HNSW32</c> and up beyond.</para>
/// </remarks>
public static class IndexFactory
{
    /// <summary>Creates an empty float-vector index described by <paramref name="description"/>.</summary>
    /// <param name="dimension">Components per input vector.</param>
    /// <param name="description">For example <c>Flat</c>, <c>HNSW32,SQ8</c> or <c>OPQ16,IVF1024,PQ16,RFlat</c>.</param>
    /// <param name="metric">How vectors are compared; null for each kind's natural metric (L2, or Hamming for BFlat and LSH).</param>
    /// <exception cref="ArgumentException">The string is empty, or a token is unknown, malformed, misplaced or does not fit the
    /// dimension or metric; the message names the token and its position.</exception>
    public static IVectorIndex Create(int dimension, string description, Metric? metric = null)
    {
        IndexFactoryCursor cursor = Start(dimension, description, metric);
        var transforms = new List<IVectorTransform>();
        while (TryTransform(cursor) is { } transform)
        {
            transforms.Add(transform);
            cursor.Dimension = transform.OutputDimension;
            if (!cursor.HasNext)
                throw cursor.Error($"is a transform; an index must follow it, e.g. \"{description},Flat\"");
            cursor.MoveTo(cursor.Index + 1);
        }

        int indexAt = cursor.Index;
        IIndex built = BuildIndex(cursor);
        var index = built as IVectorIndex
            ?? throw cursor.ErrorAt(indexAt, $"builds a binary-code index ({built.Kind}); create it with IndexFactory.CreateBinary");
        if (transforms.Count > 0) index = new TransformedIndex(transforms, index);

        cursor.Dimension = dimension;
        while (cursor.HasNext)
        {
            cursor.MoveTo(cursor.Index + 1);
            index = Wrap(cursor, index);
        }
        return index;
    }

    /// <summary>Creates an empty binary-code index (<see cref="IBinaryIndex"/>) described by <paramref name="description"/>, for example <c>BFlat</c>.</summary>
    /// <param name="bits">Bits per code, a positive multiple of 8 (64 for aHash, dHash and pHash).</param>
    /// <param name="description">A binary kind's factory string.</param>
    /// <exception cref="ArgumentException">Unknown or malformed, or the kind is not a binary-code index.</exception>
    public static IBinaryIndex CreateBinary(int bits, string description)
    {
        IndexFactoryCursor cursor = Start(bits, description, Metric.Hamming);
        IIndex built = BuildIndex(cursor);
        if (built is not IBinaryIndex binary)
            throw cursor.ErrorAt(0, $"builds a {built.Kind} index, which does not store binary codes (binary-code kinds implement IBinaryIndex, as {IndexKinds.BinaryFlat} does)");
        if (cursor.HasNext)
        {
            cursor.MoveTo(cursor.Index + 1);
            throw cursor.Error("cannot follow a binary index");
        }
        return binary;
    }

    private static IndexFactoryCursor Start(int dimension, string description, Metric? metric)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentNullException.ThrowIfNull(description);
        if (metric is { } m && !Enum.IsDefined(m))
            throw new ArgumentOutOfRangeException(nameof(metric), m, "Unknown metric.");
        if (description.Trim().Length == 0)
            throw new ArgumentException("The index description is empty; try \"Flat\" or \"HNSW32\".", nameof(description));
        string[] tokens = description.Split(',');
        for (int i = 0; i < tokens.Length; i++)
        {
            tokens[i] = tokens[i].Trim();
            if (tokens[i].Length == 0)
                throw new ArgumentException($"Index description \"{description}\": token {i + 1} is empty (a stray comma?).", nameof(description));
        }
        return new IndexFactoryCursor(description, tokens, metric, dimension);
    }

    private static IVectorTransform? TryTransform(IndexFactoryCursor cursor)
    {
        foreach (TransformKind kind in IndexRegistry.TransformKinds)
            if (kind.Create?.Invoke(cursor) is { } transform)
                return transform;
        return null;
    }

    private static IIndex BuildIndex(IndexFactoryCursor cursor)
    {
        foreach (IndexKindDescriptor kind in IndexRegistry.Kinds)
            if (kind.Create?.Invoke(cursor) is { } index)
                return index;
        foreach (IndexKindDescriptor kind in IndexRegistry.Kinds)
            if (kind.Wrap is not null && kind.Name == cursor.Token)
                throw cursor.Error($"wraps an index, so an index must come before it, e.g. IVF1024,PQ16,{cursor.Token}");
        string indexes = string.Join(", ", IndexRegistry.Kinds.Where(k => k.Create is not null).Select(k => k.FactorySyntax ?? k.Name));
        string transforms = string.Join(", ", IndexRegistry.TransformKinds.Where(k => k.Create is not null).Select(k => k.FactorySyntax ?? k.Name));
        throw cursor.Error($"is not a known transform or index (indexes: {indexes}; transforms: {transforms})");
    }

    private static IVectorIndex Wrap(IndexFactoryCursor cursor, IVectorIndex index)
    {
        foreach (IndexKindDescriptor kind in IndexRegistry.Kinds)
            if (kind.Wrap?.Invoke(cursor, index) is { } wrapped)
                return wrapped;
        string wrappers = string.Join(", ", IndexRegistry.Kinds.Where(k => k.Wrap is not null).Select(k => k.FactorySyntax ?? k.Name));
        throw cursor.Error($"cannot follow \"{cursor.Tokens[cursor.Index - 1]}\"; only a wrapper ({wrappers}) may end a description");
    }
}
