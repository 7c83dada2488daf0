namespace DeepRetrieval.Indexes;

/// <summary>
/// The contract every float-vector index implements, modelled on Faiss's <c>Index</c>: train (when the index needs it),
/// add vectors with caller ids or automatic ids, search a batch of queries for their k nearest neighbours, search within
/// a radius, remove ids, test and read back stored vectors, and save. The allocating and one-vector forms (Faiss's and
/// USearch's <c>search(x, k)</c>, <c>add(vector, id)</c>, <c>float[][]</c> input) are extension members in
/// <see cref="VectorIndexExtensions"/>, so they work on any <see cref="IVectorIndex"/> variable.
/// </summary>
/// <remarks>
/// <para>Vectors travel as row-major spans of <see cref="Dimension"/> floats per row; the row count is the span length
/// divided by the dimension. NaN or infinite components are rejected.</para>
/// <para>Ids are 64-bit, from 0 to <see cref="long.MaxValue"/> − 1, and unique within an index. Results mark missing
/// neighbours (when fewer than k vectors exist or pass the filter) with id <see cref="SearchResult.MissingId"/> (−1) and a
/// distance of <see cref="float.NaN"/>.</para>
/// <para>Training: <see cref="Train"/> must come before the first add. On an index that already holds vectors it throws
/// <see cref="InvalidOperationException"/> for every kind (training cannot re-encode what is stored); on an index that
/// is already trained and empty it changes nothing and logs that (create a new index to train again). Searching or
/// adding before an index that needs training is trained throws <see cref="InvalidOperationException"/>.</para>
/// <para>Searches, <see cref="IIndex.Contains"/>, <see cref="Reconstruct"/> and <see cref="IIndex.GetIds"/> may run
/// concurrently with each other. Adds, removes and training must not run concurrently with anything else unless an
/// index documents otherwise.</para>
/// </remarks>
public interface IVectorIndex : IIndex
{
    /// <summary>The number of components of every vector.</summary>
    int Dimension { get; }

    /// <summary>How vectors are compared.</summary>
    Metric Metric { get; }

    /// <summary>What <see cref="Reconstruct"/> gives back: the stored vector exactly, a decoded approximation, or nothing.</summary>
    ReconstructionKind Reconstruction { get; }

    /// <summary>Learns what the index needs from representative vectors (see the remarks for an index already trained or filled).</summary>
    /// <param name="vectors">Row-major training vectors; at least one row.</param>
    /// <param name="options">Progress, cancellation and logging; null for none.</param>
    /// <exception cref="ArgumentException">Wrong dimension, NaN/Inf, no rows, or too few rows for what the index learns.</exception>
    /// <exception cref="InvalidOperationException">The index already holds vectors.</exception>
    /// <exception cref="OperationCanceledException">The options' token was cancelled; the index is as it was.</exception>
    void Train(ReadOnlySpan<float> vectors, IndexBuildOptions? options = null);

    /// <summary>Adds vectors with the caller's ids.</summary>
    /// <param name="vectors">Row-major vectors, one row per id.</param>
    /// <param name="ids">One id per row; each from 0 to <see cref="long.MaxValue"/> − 1 and not already in the index.</param>
    /// <param name="options">Progress, cancellation and logging; null for none (see <see cref="IndexBuildOptions"/> for what a cancelled add keeps).</param>
    /// <exception cref="ArgumentException">Wrong dimension, count mismatch, NaN/Inf, negative or duplicate id; nothing is added.</exception>
    /// <exception cref="InvalidOperationException">The index needs training and has not been trained.</exception>
    void Add(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids, IndexBuildOptions? options = null);

    /// <summary>Adds vectors with automatic ids: consecutive integers starting one past the largest id ever used.</summary>
    /// <param name="vectors">Row-major vectors.</param>
    /// <param name="options">Progress, cancellation and logging; null for none.</param>
    /// <returns>The id given to the first row; row <c>i</c> gets that id plus <c>i</c>.</returns>
    /// <exception cref="InvalidOperationException">The index needs training, or the automatic ids would pass <see cref="long.MaxValue"/> − 1.</exception>
    long Add(ReadOnlySpan<float> vectors, IndexBuildOptions? options = null);

    /// <summary>
    /// Finds the <paramref name="k"/> nearest neighbours of each query, writing row-major results into caller buffers (no
    /// allocation). Neighbours are ordered closest first; equal values are ordered by ascending id.
    /// </summary>
    /// <param name="queries">Row-major queries.</param>
    /// <param name="k">Neighbours per query; must be positive. When fewer exist, the tail is marked missing.</param>
    /// <param name="ids">Receives queryCount × k ids.</param>
    /// <param name="distances">Receives queryCount × k distances (or similarities; see <see cref="Metric"/>).</param>
    /// <param name="options">Threads, filter and index-specific knobs; null for defaults.</param>
    /// <exception cref="InvalidOperationException">The index needs training and has not been trained.</exception>
    void Search(ReadOnlySpan<float> queries, int k, Span<long> ids, Span<float> distances, SearchOptions? options = null);

    /// <summary>Finds every stored vector within <paramref name="radius"/> of each query.</summary>
    /// <param name="queries">Row-major queries.</param>
    /// <param name="radius">
    /// For <see cref="Metric.L2"/> a squared distance and for <see cref="Metric.Hamming"/> a bit count: results have
    /// distance &lt; radius. For similarity metrics a threshold: results have similarity &gt; radius (as in Faiss).
    /// </param>
    /// <param name="options">Threads, filter and index-specific knobs; null for defaults.</param>
    /// <exception cref="InvalidOperationException">The index needs training and has not been trained.</exception>
    RangeSearchResult RangeSearch(ReadOnlySpan<float> queries, float radius, SearchOptions? options = null);

    /// <summary>
    /// Writes the stored form of <paramref name="id"/>'s vector into <paramref name="destination"/> (Faiss's
    /// <c>reconstruct</c>): exact or decoded as <see cref="Reconstruction"/> says. Allocation-free once warm and safe
    /// during concurrent searches, so re-ranking can call it per candidate.
    /// </summary>
    /// <param name="id">A stored id.</param>
    /// <param name="destination">Receives <see cref="Dimension"/> values.</param>
    /// <exception cref="KeyNotFoundException">The id is not stored.</exception>
    /// <exception cref="ArgumentException">The destination does not hold exactly <see cref="Dimension"/> values.</exception>
    /// <exception cref="NotSupportedException"><see cref="Reconstruction"/> is <see cref="ReconstructionKind.None"/>.</exception>
    void Reconstruct(long id, Span<float> destination);

    /// <summary>Sets a search-time parameter by name, as Faiss's <c>ParameterSpace</c> does (for example <c>ef</c> or <c>nprobe</c>).</summary>
    /// <param name="name">Parameter name.</param>
    /// <param name="value">New value.</param>
    /// <exception cref="ArgumentException">The index has no such parameter or the value is out of range.</exception>
    void SetSearchParameter(string name, double value);
}
