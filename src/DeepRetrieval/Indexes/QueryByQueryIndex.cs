namespace DeepRetrieval.Indexes;

/// <summary>
/// Base of indexes that answer each query on its own (exhaustive scans over codes): it runs one query, or a batch on
/// one thread, on the calling thread straight from the caller's spans without allocating, and larger batches in
/// parallel.
/// </summary>
public abstract class QueryByQueryIndex : VectorIndex
{
    /// <summary>Creates the index.</summary>
    /// <param name="dimension">Components per vector.</param>
    /// <param name="metric">How vectors are compared.</param>
    protected QueryByQueryIndex(int dimension, Metric metric) : base(dimension, metric) { }

    /// <summary>Finds the <c>ids.Length</c> nearest stored vectors to one prepared (for cosine, normalised) query.</summary>
    /// <param name="query">One query of <see cref="VectorIndex.Dimension"/> values.</param>
    /// <param name="ids">Receives the ids, nearest first; padded with <see cref="SearchResult.MissingId"/>.</param>
    /// <param name="distances">Receives the distances (or similarities), matching <paramref name="ids"/>.</param>
    /// <param name="filter">Only ids it accepts are returned; null accepts all.</param>
    protected abstract void SearchOne(ReadOnlySpan<float> query, Span<long> ids, Span<float> distances, Func<long, bool>? filter);

    /// <inheritdoc />
    protected sealed override void SearchCore(ReadOnlySpan<float> queries, int rows, int k, Span<long> ids, Span<float> distances, SearchOptions options)
    {
        Func<long, bool>? filter = options.Predicate;
        int threads = options.ResolveThreads(rows);
        if (rows == 1 || threads == 1)
        {
            float[]? pooled = null;
            try
            {
                ReadOnlySpan<float> prepared = PrepareQueries(queries, out pooled);
                for (int q = 0; q < rows; q++)
                    SearchOne(prepared.Slice(q * Dimension, Dimension), ids.Slice(q * k, k), distances.Slice(q * k, k), filter);
            }
            finally
            {
                ReturnPooled(pooled);
            }
            return;
        }
        SearchParallel(queries, rows, k, ids, distances, filter, threads);
    }

    // Apart from SearchCore so that the closure's captures are allocated only on this path, not for every single query.
    private void SearchParallel(ReadOnlySpan<float> queries, int rows, int k, Span<long> ids, Span<float> distances, Func<long, bool>? filter, int threads)
    {
        // Parallel bodies cannot capture spans, so the batch goes through arrays and is copied back.
        float[] batch = queries.ToArray();
        NormalizeForCosine(batch, nameof(queries));
        var outIds = new long[ids.Length];
        var outDistances = new float[distances.Length];
        Parallel.For(0, rows, new ParallelOptions { MaxDegreeOfParallelism = threads }, q =>
            SearchOne(batch.AsSpan(q * Dimension, Dimension), outIds.AsSpan(q * k, k), outDistances.AsSpan(q * k, k), filter));
        outIds.CopyTo(ids);
        outDistances.CopyTo(distances);
    }
}
