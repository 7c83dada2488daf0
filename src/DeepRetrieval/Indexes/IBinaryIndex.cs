namespace DeepRetrieval.Indexes;

/// <summary>
/// The contract of indexes over packed binary codes compared by Hamming distance (Faiss's <c>IndexBinary</c>): perceptual
/// image hashes (aHash, dHash, pHash, wHash), ITQ or LSH codes. A code of <see cref="Bits"/> bits is <see cref="CodeSize"/>
/// bytes; bit j is bit j % 8 (least significant first) of byte j / 8. Distances are whole numbers of differing bits.
/// </summary>
/// <remarks>
/// <para>Missing neighbours (fewer than k codes exist or pass the filter) get id <see cref="SearchResult.MissingId"/> (−1)
/// and distance −1. Equal distances are ordered by ascending id. Ids follow the same rules as <see cref="IVectorIndex"/>:
/// 0 to <see cref="long.MaxValue"/> − 1, unique, automatic ids continue one past the largest ever used.</para>
/// <para>The allocating forms (<c>Search(codes, k)</c>, one-code add) are extension members in <see cref="BinaryIndexExtensions"/>.
/// Searches, <see cref="IIndex.Contains"/> and <see cref="Reconstruct"/> may run concurrently with each other; adds and
/// removes must not overlap anything else.</para>
/// </remarks>
public interface IBinaryIndex : IIndex
{
    /// <summary>Bits per code.</summary>
    int Bits { get; }

    /// <summary>Bytes per code: <see cref="Bits"/> / 8.</summary>
    int CodeSize { get; }

    /// <summary>Adds packed codes with the caller's ids.</summary>
    /// <param name="codes">Consecutive codes of <see cref="CodeSize"/> bytes, one per id.</param>
    /// <param name="ids">One id per code, none already stored.</param>
    /// <exception cref="ArgumentException">The byte count is not one code per id, or an id is negative, reserved or duplicate; nothing is added.</exception>
    void Add(ReadOnlySpan<byte> codes, ReadOnlySpan<long> ids);

    /// <summary>Adds packed codes with automatic ids.</summary>
    /// <param name="codes">Consecutive codes of <see cref="CodeSize"/> bytes.</param>
    /// <returns>The id given to the first code; code <c>i</c> gets that id plus <c>i</c>.</returns>
    long Add(ReadOnlySpan<byte> codes);

    /// <summary>
    /// Finds the <paramref name="k"/> codes nearest to each query code, closest first, into caller buffers (no allocation
    /// for one query on one thread).
    /// </summary>
    /// <param name="queries">Consecutive query codes of <see cref="CodeSize"/> bytes.</param>
    /// <param name="k">Neighbours per query; positive.</param>
    /// <param name="ids">Receives queryCount × k ids.</param>
    /// <param name="distances">Receives queryCount × k Hamming distances (−1 where missing).</param>
    /// <param name="options">Threads and filter; null for defaults.</param>
    void Search(ReadOnlySpan<byte> queries, int k, Span<long> ids, Span<int> distances, SearchOptions? options = null);

    /// <summary>Finds every stored code whose Hamming distance to a query is below <paramref name="radius"/> (strictly, as in Faiss).</summary>
    /// <param name="queries">Consecutive query codes of <see cref="CodeSize"/> bytes.</param>
    /// <param name="radius">Distances below it are returned; 0 returns nothing.</param>
    /// <param name="options">Threads and filter; null for defaults.</param>
    BinaryRangeSearchResult RangeSearch(ReadOnlySpan<byte> queries, int radius, SearchOptions? options = null);

    /// <summary>Copies the stored code of <paramref name="id"/>; allocation-free and safe during concurrent searches.</summary>
    /// <param name="id">A stored id.</param>
    /// <param name="destination">Receives <see cref="CodeSize"/> bytes.</param>
    /// <exception cref="KeyNotFoundException">The id is not stored.</exception>
    void Reconstruct(long id, Span<byte> destination);
}
