using DeepRetrieval.Indexes.Hnsw;

namespace DeepRetrieval.Indexes;

/// <summary>
/// What every index has, whatever it stores: a kind, a set of 64-bit ids, removal, and saving. Float-vector indexes add
/// <see cref="IVectorIndex"/>, binary-code indexes <see cref="IBinaryIndex"/>; an index may be both.
/// </summary>
/// <remarks>
/// <para>Reads (<see cref="Contains"/>, <see cref="GetIds"/>, searches, reconstruction) may run concurrently with each
/// other, allocate nothing per call where the signature allows it, and need no lock of the caller's. Writes (train,
/// add, remove) must not overlap anything else unless the index documents otherwise (<see cref="HnswIndex"/> allows
/// adds, removes and saves during searches).</para>
/// </remarks>
public interface IIndex
{
    /// <summary>The index kind as index files name it (one of <see cref="IndexKinds"/>, or a registered kind of the application's).</summary>
    string Kind { get; }

    /// <summary>The number of vectors or codes currently stored.</summary>
    long Count { get; }

    /// <summary>False until training has run, for indexes that learn from data; true otherwise.</summary>
    bool IsTrained { get; }

    /// <summary>Bytes held by the index's data structures (vectors, codes, graphs, ids), excluding object headers.</summary>
    long MemoryUsageBytes { get; }

    /// <summary>True when <paramref name="id"/> is stored (and not removed). Allocation-free; safe during concurrent searches.</summary>
    /// <param name="id">The id.</param>
    bool Contains(long id);

    /// <summary>A snapshot of every stored id, in the index's storage order (not sorted).</summary>
    long[] GetIds();

    /// <summary>Removes the given ids. Either all are removed or, when one is unknown, none is.</summary>
    /// <param name="ids">Ids to remove; duplicates in the list are ignored.</param>
    /// <returns>The number of vectors removed.</returns>
    /// <exception cref="KeyNotFoundException">An id is not in the index (nothing is removed).</exception>
    int Remove(ReadOnlySpan<long> ids);

    /// <summary>Writes the index in the DeepRetrieval index file format (see <see cref="IndexFile"/>).</summary>
    /// <param name="stream">A writable stream.</param>
    void Save(Stream stream);
}
