using DeepRetrieval.Indexes;

namespace DeepRetrieval.Reranking;

/// <summary>
/// What the re-rankers need from the database they re-rank: its vectors by id, its ids, and a k-nearest-neighbour
/// search. The members are named and shaped as on <see cref="IVectorIndex"/>, so an index that can reconstruct its
/// vectors is wrapped with a forwarding adapter; <see cref="MatrixDatabase"/> holds the vectors in memory and
/// searches them exactly.
/// </summary>
/// <remarks>
/// Re-rankers compute the similarities they need from the vectors themselves; the search is only used to find
/// neighbours (database-side augmentation, the diffusion graph, query expansion's second search), so an approximate
/// index makes those steps approximate and sub-quadratic in the database size.
/// </remarks>
public interface IRerankingDatabase
{
    /// <summary>The number of components of every vector.</summary>
    int Dimension { get; }

    /// <summary>How <see cref="Search"/> compares vectors.</summary>
    Metric Metric { get; }

    /// <summary>The number of vectors stored.</summary>
    long Count { get; }

    /// <summary>Every stored id, each once, in a stable order.</summary>
    IEnumerable<long> Ids { get; }

    /// <summary>Whether <paramref name="id"/> is stored.</summary>
    /// <param name="id">A database id.</param>
    bool Contains(long id);

    /// <summary>Copies the vector stored under <paramref name="id"/> into <paramref name="destination"/>.</summary>
    /// <param name="id">A stored id.</param>
    /// <param name="destination">Receives <see cref="Dimension"/> values.</param>
    /// <exception cref="KeyNotFoundException">The id is not stored.</exception>
    void Reconstruct(long id, Span<float> destination);

    /// <summary>
    /// Finds the <paramref name="k"/> nearest stored vectors of each query (closest first; see
    /// <see cref="IVectorIndex.Search"/> for the layout and the marking of missing neighbours).
    /// </summary>
    /// <param name="queries">Row-major queries of <see cref="Dimension"/> values.</param>
    /// <param name="k">Neighbours per query.</param>
    /// <param name="ids">Receives queryCount × k ids.</param>
    /// <param name="distances">Receives queryCount × k distances or similarities, as <see cref="Metric"/> defines them.</param>
    /// <param name="options">Threads, filter and index-specific knobs; null for defaults.</param>
    void Search(ReadOnlySpan<float> queries, int k, Span<long> ids, Span<float> distances, SearchOptions? options = null);
}
