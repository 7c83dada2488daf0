using System.Buffers;

namespace DeepRetrieval.Indexes;

/// <summary>
/// The calls a Faiss or USearch user expects on any <see cref="IVectorIndex"/>: allocating search, one vector at a
/// time, jagged <c>float[][]</c> rows and <see cref="ReadOnlyMemory{T}"/> (for async code that cannot hold spans). Each
/// one validates like the span contract it forwards to.
/// </summary>
public static class VectorIndexExtensions
{
    extension(IVectorIndex index)
    {
        /// <summary>Finds the <paramref name="k"/> nearest neighbours of each query (one vector or a batch) and returns them in a new result.</summary>
        /// <param name="queries">Row-major queries: one vector, or several back to back.</param>
        /// <param name="k">Neighbours per query; positive.</param>
        /// <param name="options">Threads, filter, knobs; null for defaults.</param>
        /// <exception cref="ArgumentException">Wrong dimension, NaN/Inf, or more results than an array can hold.</exception>
        public SearchResult Search(ReadOnlySpan<float> queries, int k, SearchOptions? options = null)
        {
            ArgumentNullException.ThrowIfNull(index);
            if (queries.Length % index.Dimension != 0)
                throw new ArgumentException($"Expected whole rows of dimension {index.Dimension}, but got {queries.Length} values ({queries.Length} is not a multiple of {index.Dimension}). Check the vectors' dimension.", nameof(queries));
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
            int rows = queries.Length / index.Dimension;
            long size = (long)rows * k;
            if (size > Array.MaxLength)
                throw new ArgumentException($"queryCount × k = {size} results exceed the largest array; search in smaller batches.");
            var ids = new long[size];
            var distances = new float[size];
            index.Search(queries, k, ids, distances, options);
            return new SearchResult(rows, k, ids, distances);
        }

        /// <summary>Finds the <paramref name="k"/> nearest neighbours of each query held in memory (for async callers).</summary>
        /// <param name="queries">Row-major queries.</param>
        /// <param name="k">Neighbours per query; positive.</param>
        /// <param name="options">Threads, filter, knobs; null for defaults.</param>
        public SearchResult Search(ReadOnlyMemory<float> queries, int k, SearchOptions? options = null) =>
            index.Search(queries.Span, k, options);

        /// <summary>Finds the <paramref name="k"/> nearest neighbours of each query given as one array per vector.</summary>
        /// <param name="queries">One array of <see cref="IVectorIndex.Dimension"/> values per query.</param>
        /// <param name="k">Neighbours per query; positive.</param>
        /// <param name="options">Threads, filter, knobs; null for defaults.</param>
        /// <exception cref="ArgumentException">A row is null or has the wrong length (the message names it).</exception>
        public SearchResult Search(float[][] queries, int k, SearchOptions? options = null)
        {
            ArgumentNullException.ThrowIfNull(index);
            float[] rows = Flatten(queries, index.Dimension, nameof(queries));
            try
            {
                return index.Search(rows.AsSpan(0, queries.Length * index.Dimension), k, options);
            }
            finally
            {
                ArrayPool<float>.Shared.Return(rows);
            }
        }

        /// <summary>Adds one vector under the caller's id (USearch's <c>add(key, vector)</c>).</summary>
        /// <param name="vector">Exactly <see cref="IVectorIndex.Dimension"/> values.</param>
        /// <param name="id">An id not in the index.</param>
        /// <exception cref="ArgumentException">The vector is not one row, holds NaN/Inf, or the id is taken or negative.</exception>
        public void Add(ReadOnlySpan<float> vector, long id)
        {
            ArgumentNullException.ThrowIfNull(index);
            if (vector.Length != index.Dimension)
                throw new ArgumentException($"Expected one vector of dimension {index.Dimension}; got {vector.Length} values.", nameof(vector));
            index.Add(vector, new ReadOnlySpan<long>(in id));
        }

        /// <summary>Adds vectors held in memory with the caller's ids (for async callers).</summary>
        /// <param name="vectors">Row-major vectors.</param>
        /// <param name="ids">One id per row.</param>
        /// <param name="options">Progress, cancellation and logging; null for none.</param>
        public void Add(ReadOnlyMemory<float> vectors, ReadOnlyMemory<long> ids, IndexBuildOptions? options = null)
        {
            ArgumentNullException.ThrowIfNull(index);
            index.Add(vectors.Span, ids.Span, options);
        }

        /// <summary>Adds vectors held in memory with automatic ids (for async callers).</summary>
        /// <param name="vectors">Row-major vectors.</param>
        /// <param name="options">Progress, cancellation and logging; null for none.</param>
        /// <returns>The id given to the first row.</returns>
        public long Add(ReadOnlyMemory<float> vectors, IndexBuildOptions? options = null)
        {
            ArgumentNullException.ThrowIfNull(index);
            return index.Add(vectors.Span, options);
        }

        /// <summary>Adds vectors given as one array per vector, with the caller's ids.</summary>
        /// <param name="vectors">One array of <see cref="IVectorIndex.Dimension"/> values per vector.</param>
        /// <param name="ids">One id per vector.</param>
        /// <param name="options">Progress, cancellation and logging; null for none.</param>
        public void Add(float[][] vectors, ReadOnlySpan<long> ids, IndexBuildOptions? options = null)
        {
            ArgumentNullException.ThrowIfNull(index);
            float[] rows = Flatten(vectors, index.Dimension, nameof(vectors));
            try
            {
                index.Add(rows.AsSpan(0, vectors.Length * index.Dimension), ids, options);
            }
            finally
            {
                ArrayPool<float>.Shared.Return(rows);
            }
        }

        /// <summary>Adds vectors given as one array per vector, with automatic ids.</summary>
        /// <param name="vectors">One array of <see cref="IVectorIndex.Dimension"/> values per vector.</param>
        /// <param name="options">Progress, cancellation and logging; null for none.</param>
        /// <returns>The id given to the first vector.</returns>
        public long Add(float[][] vectors, IndexBuildOptions? options = null)
        {
            ArgumentNullException.ThrowIfNull(index);
            float[] rows = Flatten(vectors, index.Dimension, nameof(vectors));
            try
            {
                return index.Add(rows.AsSpan(0, vectors.Length * index.Dimension), options);
            }
            finally
            {
                ArrayPool<float>.Shared.Return(rows);
            }
        }

        /// <summary>
        /// Puts a set of vectors into the index under their ids, training it on the same set first when it is not trained
        /// yet (an index that learns from data, such as IVF or PQ, is thus trained on what it will hold); what a Faiss
        /// user writes as <c>if not index.is_trained: index.train(x)</c> followed by <c>index.add_with_ids(x, ids)</c>.
        /// </summary>
        /// <param name="vectors">Row-major vectors, <see cref="IVectorIndex.Dimension"/> values each; empty does nothing.</param>
        /// <param name="ids">One id per row.</param>
        /// <param name="options">Progress, cancellation and logging for both steps; null for none.</param>
        /// <exception cref="ArgumentException">The vectors are not whole rows of the index's dimension, the counts differ, or an id is already in the index.</exception>
        public void TrainAndAdd(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids, IndexBuildOptions? options = null)
        {
            ArgumentNullException.ThrowIfNull(index);
            if (vectors.IsEmpty && ids.IsEmpty)
                return;
            if (vectors.Length % index.Dimension != 0)
                throw new ArgumentException($"The index takes {index.Dimension}-dimensional vectors; {vectors.Length} values are not whole rows of that dimension.", nameof(vectors));
            if (vectors.Length / index.Dimension != ids.Length)
                throw new ArgumentException($"{vectors.Length / index.Dimension} vectors but {ids.Length} ids; give one id per vector.", nameof(ids));
            if (!index.IsTrained)
                index.Train(vectors, options);
            index.Add(vectors, ids, options);
        }

        /// <summary>Trains on vectors held in memory (for async callers).</summary>
        /// <param name="vectors">Row-major training vectors.</param>
        /// <param name="options">Progress, cancellation and logging; null for none.</param>
        public void Train(ReadOnlyMemory<float> vectors, IndexBuildOptions? options = null)
        {
            ArgumentNullException.ThrowIfNull(index);
            index.Train(vectors.Span, options);
        }

        /// <summary>Trains on vectors given as one array per vector.</summary>
        /// <param name="vectors">One array of <see cref="IVectorIndex.Dimension"/> values per vector.</param>
        /// <param name="options">Progress, cancellation and logging; null for none.</param>
        public void Train(float[][] vectors, IndexBuildOptions? options = null)
        {
            ArgumentNullException.ThrowIfNull(index);
            float[] rows = Flatten(vectors, index.Dimension, nameof(vectors));
            try
            {
                index.Train(rows.AsSpan(0, vectors.Length * index.Dimension), options);
            }
            finally
            {
                ArrayPool<float>.Shared.Return(rows);
            }
        }

        /// <summary>Returns the stored form of <paramref name="id"/>'s vector in a new array (see <see cref="IVectorIndex.Reconstruct"/>).</summary>
        /// <param name="id">A stored id.</param>
        public float[] Reconstruct(long id)
        {
            ArgumentNullException.ThrowIfNull(index);
            var vector = new float[index.Dimension];
            index.Reconstruct(id, vector);
            return vector;
        }
    }

    // Copies jagged rows into one pooled row-major buffer, naming the first row of the wrong length.
    private static float[] Flatten(float[][] rows, int dimension, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(rows, parameterName);
        long total = (long)rows.Length * dimension;
        if (total > Array.MaxLength)
            throw new ArgumentException($"{rows.Length} rows of dimension {dimension} exceed the largest array; pass them in batches.", parameterName);
        for (int r = 0; r < rows.Length; r++)
        {
            if (rows[r] is null) throw new ArgumentException($"Row {r} is null.", parameterName);
            if (rows[r].Length != dimension)
                throw new ArgumentException($"Row {r} has {rows[r].Length} values; every row must have the index's dimension {dimension}.", parameterName);
        }
        float[] flat = ArrayPool<float>.Shared.Rent((int)Math.Max(1, total));
        for (int r = 0; r < rows.Length; r++) rows[r].CopyTo(flat, r * dimension);
        return flat;
    }
}
