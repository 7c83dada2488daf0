namespace DeepRetrieval.Indexes;

/// <summary>
/// The contract every index implements, modelled on Faiss's <c>Index</c>: train (when the index needs it),
/// add vectors with caller ids or automatic ids, search a batch of queries for their k nearest
/// neighbours, search within a radius, remove ids, and save.
/// </summary>
/// <remarks>
/// <para>Vectors travel as row-major spans of <see cref="Dimension"/> floats per row; the row count is
/// the span length divided by the dimension. NaN or infinite components are rejected.</para>
/// <para>Ids are 64-bit and unique within an index. Results mark missing neighbours (when fewer than k
/// vectors exist or pass the filter) with id <see cref="SearchResult.MissingId"/> (−1) and a distance of
/// <see cref="float.NaN"/>.</para>
/// <para>Searches may run concurrently with each other. Adds, removes and training must not run
/// concurrently with anything else unless an index documents otherwise.</para>
/// </remarks>
public interface IVectorIndex
{
    /// <summary>The number of components of every vector.</summary>
    int Dimension { get; }

    /// <summary>How vectors are compared.</summary>
    Metric Metric { get; }

    /// <summary>The number of vectors currently stored.</summary>
    long Count { get; }

    /// <summary>The index kind as the factory spells it (for example <c>Flat</c>).</summary>
    string Kind { get; }

    /// <summary>False until <see cref="Train"/> has run, for indexes that learn from data; true otherwise.</summary>
    bool IsTrained { get; }

    /// <summary>Bytes held by the index's data structures (vectors, codes, graphs, ids), excluding object headers.</summary>
    long MemoryUsageBytes { get; }

    /// <summary>Learns what the index needs from representative vectors (a no-op for indexes that need nothing).</summary>
    /// <param name="vectors">Row-major training vectors.</param>
    void Train(ReadOnlySpan<float> vectors);

    /// <summary>Adds vectors with the caller's ids.</summary>
    /// <param name="vectors">Row-major vectors, one row per id.</param>
    /// <param name="ids">One id per row; each must be non-negative and not already in the index.</param>
    /// <exception cref="ArgumentException">Wrong dimension, count mismatch, NaN/Inf, negative or duplicate id.</exception>
    /// <exception cref="InvalidOperationException">The index needs training and has not been trained.</exception>
    void Add(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids);

    /// <summary>Adds vectors with automatic ids: consecutive integers starting one past the largest id ever used.</summary>
    /// <param name="vectors">Row-major vectors.</param>
    /// <returns>The id given to the first row; row <c>i</c> gets that id plus <c>i</c>.</returns>
    long Add(ReadOnlySpan<float> vectors);

    /// <summary>
    /// Finds the <paramref name="k"/> nearest neighbours of each query, writing row-major results into
    /// caller buffers (no allocation). Neighbours are ordered closest first; equal values are ordered by
    /// ascending id.
    /// </summary>
    /// <param name="queries">Row-major queries.</param>
    /// <param name="k">Neighbours per query; must be positive. When fewer exist, the tail is marked missing.</param>
    /// <param name="ids">Receives queryCount × k ids.</param>
    /// <param name="distances">Receives queryCount × k distances (or similarities; see <see cref="Metric"/>).</param>
    /// <param name="options">Threads, filter and index-specific knobs; null for defaults.</param>
    void Search(ReadOnlySpan<float> queries, int k, Span<long> ids, Span<float> distances, SearchOptions? options = null);

    /// <summary>Finds every stored vector within <paramref name="radius"/> of each query.</summary>
    /// <param name="queries">Row-major queries.</param>
    /// <param name="radius">
    /// For <see cref="Metric.L2"/> a squared distance: results have distance &lt; radius. For similarity
    /// metrics a threshold: results have similarity &gt; radius (as in Faiss).
    /// </param>
    /// <param name="options">Threads, filter and index-specific knobs; null for defaults.</param>
    RangeSearchResult RangeSearch(ReadOnlySpan<float> queries, float radius, SearchOptions? options = null);

    /// <summary>Removes the given ids. Either all are removed or, when one is unknown, none is.</summary>
    /// <param name="ids">Ids to remove; duplicates in the list are ignored.</param>
    /// <returns>The number of vectors removed.</returns>
    /// <exception cref="KeyNotFoundException">An id is not in the index (nothing is removed).</exception>
    int Remove(ReadOnlySpan<long> ids);

    /// <summary>Sets a search-time parameter by name, as Faiss's <c>ParameterSpace</c> does (for example <c>ef</c> or <c>nprobe</c>).</summary>
    /// <param name="name">Parameter name.</param>
    /// <param name="value">New value.</param>
    /// <exception cref="ArgumentException">The index has no such parameter or the value is out of range.</exception>
    void SetSearchParameter(string name, double value);

    /// <summary>Writes the index in the DeepRetrieval index file format (see <see cref="Persistence.IndexFile"/>).</summary>
    /// <param name="stream">A writable stream.</param>
    void Save(Stream stream);
}
