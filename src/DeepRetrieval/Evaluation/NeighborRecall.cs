using System.Buffers;
using System.Numerics;
using DeepRetrieval.Indexes;

namespace DeepRetrieval.Evaluation;

/// <summary>
/// Neighbour-overlap recall as approximate-nearest-neighbour benchmarks report it: how many of the
/// true nearest neighbours an approximate search found (ann-benchmarks' "k-NN recall", Faiss's
/// intersection measure), and Faiss's "1-recall@k".
/// </summary>
/// <remarks>
/// <para>Ids are row-major: row <c>q</c> of a span with row length <c>w</c> is <c>[q·w, (q+1)·w)</c>.
/// <see cref="SearchResult.MissingId"/> (−1) marks a missing neighbour and never matches anything,
/// in the found ids or in the ground truth.</para>
/// <para>This is not the hit-rate Recall@K of metric learning; for that see
/// <see cref="RetrievalMetrics.RecallAtK"/>.</para>
/// </remarks>
public static class NeighborRecall
{
    // Beyond this many ids (found + truth) the sort buffers come from the pool, so a large k cannot overflow the stack.
    private const int StackLimit = 256;

    /// <summary>
    /// Mean neighbour overlap at <paramref name="k"/>:
    /// <c>recall = (1/Q) Σ_q |found_q[0..k) ∩ truth_q[0..k)| / k</c>.
    /// </summary>
    /// <remarks>
    /// <para>Both prefixes are taken as sets: an id repeated in a row counts once, and −1 never counts.
    /// The denominator is always <paramref name="k"/>, so ground truth with fewer than k real
    /// neighbours caps the recall below 1.</para>
    /// <para>Tie rule: none is applied. Neighbours at equal distance are not interchangeable here;
    /// an id counts only when it is itself in the first k ground-truth ids, so ground truth and index
    /// should break ties the same way (this library's indexes order ties by ascending id).</para>
    /// </remarks>
    /// <param name="foundIds">queryCount × <paramref name="foundK"/> ids returned by the search, closest first.</param>
    /// <param name="foundK">Row length of <paramref name="foundIds"/>.</param>
    /// <param name="groundTruthIds">queryCount × <paramref name="groundTruthK"/> exact neighbour ids, closest first.</param>
    /// <param name="groundTruthK">Row length of <paramref name="groundTruthIds"/>.</param>
    /// <param name="k">Cut-off, 1 ≤ k ≤ min(foundK, groundTruthK).</param>
    /// <returns>A value in [0, 1].</returns>
    /// <exception cref="ArgumentException">Empty or ragged spans, or differing query counts.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A row length is not positive or k is out of range.</exception>
    public static double RecallAtK(ReadOnlySpan<long> foundIds, int foundK, ReadOnlySpan<long> groundTruthIds, int groundTruthK, int k)
        => Overlap(foundIds, foundK, groundTruthIds, groundTruthK, k);

    /// <summary>
    /// Mean neighbour overlap at <paramref name="k"/> against 32-bit ground truth (as read from
    /// <c>.ivecs</c> files): <c>recall = (1/Q) Σ_q |found_q[0..k) ∩ truth_q[0..k)| / k</c>.
    /// </summary>
    /// <remarks>Same set semantics, −1 handling and tie rule as the 64-bit overload.</remarks>
    /// <param name="foundIds">queryCount × <paramref name="foundK"/> ids returned by the search, closest first.</param>
    /// <param name="foundK">Row length of <paramref name="foundIds"/>.</param>
    /// <param name="groundTruthIds">queryCount × <paramref name="groundTruthK"/> exact neighbour ids, closest first.</param>
    /// <param name="groundTruthK">Row length of <paramref name="groundTruthIds"/>.</param>
    /// <param name="k">Cut-off, 1 ≤ k ≤ min(foundK, groundTruthK).</param>
    /// <returns>A value in [0, 1].</returns>
    /// <exception cref="ArgumentException">Empty or ragged spans, or differing query counts.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A row length is not positive or k is out of range.</exception>
    public static double RecallAtK(ReadOnlySpan<long> foundIds, int foundK, ReadOnlySpan<int> groundTruthIds, int groundTruthK, int k)
        => Overlap(foundIds, foundK, groundTruthIds, groundTruthK, k);

    /// <summary>
    /// Mean neighbour overlap at <paramref name="k"/> of a search result:
    /// <c>recall = (1/Q) Σ_q |found_q[0..k) ∩ truth_q[0..k)| / k</c>.
    /// </summary>
    /// <remarks>Same set semantics, −1 handling and tie rule as the span overloads.</remarks>
    /// <param name="result">The search result; its <see cref="SearchResult{TDistance}.K"/> is the found row length.</param>
    /// <param name="groundTruthIds">queryCount × <paramref name="groundTruthK"/> exact neighbour ids, closest first.</param>
    /// <param name="groundTruthK">Row length of <paramref name="groundTruthIds"/>.</param>
    /// <param name="k">Cut-off, 1 ≤ k ≤ min(result.K, groundTruthK).</param>
    /// <returns>A value in [0, 1].</returns>
    /// <exception cref="ArgumentNullException"><paramref name="result"/> is null.</exception>
    /// <exception cref="ArgumentException">Empty or ragged spans, or differing query counts.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A row length is not positive or k is out of range.</exception>
    public static double RecallAtK(SearchResult result, ReadOnlySpan<long> groundTruthIds, int groundTruthK, int k)
    {
        ArgumentNullException.ThrowIfNull(result);
        return Overlap(result.Ids, result.K, groundTruthIds, groundTruthK, k);
    }

    /// <summary>
    /// Mean neighbour overlap at <paramref name="k"/> of a search result against 32-bit ground truth:
    /// <c>recall = (1/Q) Σ_q |found_q[0..k) ∩ truth_q[0..k)| / k</c>.
    /// </summary>
    /// <remarks>Same set semantics, −1 handling and tie rule as the span overloads.</remarks>
    /// <param name="result">The search result; its <see cref="SearchResult{TDistance}.K"/> is the found row length.</param>
    /// <param name="groundTruthIds">queryCount × <paramref name="groundTruthK"/> exact neighbour ids, closest first.</param>
    /// <param name="groundTruthK">Row length of <paramref name="groundTruthIds"/>.</param>
    /// <param name="k">Cut-off, 1 ≤ k ≤ min(result.K, groundTruthK).</param>
    /// <returns>A value in [0, 1].</returns>
    /// <exception cref="ArgumentNullException"><paramref name="result"/> is null.</exception>
    /// <exception cref="ArgumentException">Empty or ragged spans, or differing query counts.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A row length is not positive or k is out of range.</exception>
    public static double RecallAtK(SearchResult result, ReadOnlySpan<int> groundTruthIds, int groundTruthK, int k)
    {
        ArgumentNullException.ThrowIfNull(result);
        return Overlap(result.Ids, result.K, groundTruthIds, groundTruthK, k);
    }

    /// <summary>
    /// Faiss's 1-recall@k: the fraction of queries whose true nearest neighbour is among the first
    /// <paramref name="k"/> found ids, <c>(1/Q) Σ_q [truth_q[0] ∈ found_q[0..k)]</c>.
    /// </summary>
    /// <remarks>Tie rule: none; the true nearest neighbour is whatever id the ground truth lists first.</remarks>
    /// <param name="foundIds">queryCount × <paramref name="foundK"/> ids returned by the search, closest first.</param>
    /// <param name="foundK">Row length of <paramref name="foundIds"/>.</param>
    /// <param name="groundTruthIds">queryCount × <paramref name="groundTruthK"/> exact neighbour ids, closest first.</param>
    /// <param name="groundTruthK">Row length of <paramref name="groundTruthIds"/>; only the first column is read.</param>
    /// <param name="k">Cut-off, 1 ≤ k ≤ foundK.</param>
    /// <returns>A value in [0, 1].</returns>
    /// <exception cref="ArgumentException">Empty or ragged spans, differing query counts, or a ground-truth row whose first id is −1.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A row length is not positive or k is out of range.</exception>
    public static double NearestNeighborRecallAtK(ReadOnlySpan<long> foundIds, int foundK, ReadOnlySpan<long> groundTruthIds, int groundTruthK, int k)
        => Nearest(foundIds, foundK, groundTruthIds, groundTruthK, k);

    /// <summary>
    /// Faiss's 1-recall@k against 32-bit ground truth: the fraction of queries whose true nearest
    /// neighbour is among the first <paramref name="k"/> found ids, <c>(1/Q) Σ_q [truth_q[0] ∈ found_q[0..k)]</c>.
    /// </summary>
    /// <remarks>Tie rule: none; the true nearest neighbour is whatever id the ground truth lists first.</remarks>
    /// <param name="foundIds">queryCount × <paramref name="foundK"/> ids returned by the search, closest first.</param>
    /// <param name="foundK">Row length of <paramref name="foundIds"/>.</param>
    /// <param name="groundTruthIds">queryCount × <paramref name="groundTruthK"/> exact neighbour ids, closest first.</param>
    /// <param name="groundTruthK">Row length of <paramref name="groundTruthIds"/>; only the first column is read.</param>
    /// <param name="k">Cut-off, 1 ≤ k ≤ foundK.</param>
    /// <returns>A value in [0, 1].</returns>
    /// <exception cref="ArgumentException">Empty or ragged spans, differing query counts, or a ground-truth row whose first id is −1.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A row length is not positive or k is out of range.</exception>
    public static double NearestNeighborRecallAtK(ReadOnlySpan<long> foundIds, int foundK, ReadOnlySpan<int> groundTruthIds, int groundTruthK, int k)
        => Nearest(foundIds, foundK, groundTruthIds, groundTruthK, k);

    private static double Overlap<TTruth>(ReadOnlySpan<long> foundIds, int foundK, ReadOnlySpan<TTruth> groundTruthIds, int groundTruthK, int k)
        where TTruth : IBinaryInteger<TTruth>
    {
        int queries = QueryCount(foundIds, foundK, groundTruthIds, groundTruthK);
        ShapeGuard.CutOff(k, Math.Min(foundK, groundTruthK), nameof(k), "min(foundK, groundTruthK)");

        int needed = 2 * k;
        long[]? rented = null;
        Span<long> buffer = needed <= StackLimit
            ? stackalloc long[StackLimit]
            : (rented = ArrayPool<long>.Shared.Rent(needed));
        try
        {
            Span<long> f = buffer[..k];
            Span<long> t = buffer.Slice(k, k);
            long hits = 0;
            for (int q = 0; q < queries; q++)
            {
                foundIds.Slice(q * foundK, k).CopyTo(f);
                ReadOnlySpan<TTruth> truthRow = groundTruthIds.Slice(q * groundTruthK, k);
                for (int i = 0; i < k; i++)
                    t[i] = long.CreateTruncating(truthRow[i]);
                // Sorting both prefixes turns the intersection into a merge: O(k log k) instead of O(k²),
                // which matters for k = 100..1000 over 10⁴ queries.
                f.Sort();
                t.Sort();
                hits += CountCommonDistinct(f, t);
            }

            // Σ_q hits_q / k divided by Q equals total hits / (Q·k); one division keeps the rounding small.
            return hits / ((double)queries * k);
        }
        finally
        {
            if (rented is not null)
                ArrayPool<long>.Shared.Return(rented);
        }
    }

    private static double Nearest<TTruth>(ReadOnlySpan<long> foundIds, int foundK, ReadOnlySpan<TTruth> groundTruthIds, int groundTruthK, int k)
        where TTruth : IBinaryInteger<TTruth>
    {
        int queries = QueryCount(foundIds, foundK, groundTruthIds, groundTruthK);
        ShapeGuard.CutOff(k, foundK, nameof(k), nameof(foundK));
        long hits = 0;
        for (int q = 0; q < queries; q++)
        {
            long nearest = long.CreateTruncating(groundTruthIds[q * groundTruthK]);
            if (nearest == SearchResult.MissingId)
                throw new ArgumentException($"groundTruthIds row {q} starts with the missing id −1, so it has no nearest neighbour.", nameof(groundTruthIds));
            if (foundIds.Slice(q * foundK, k).Contains(nearest))
                hits++;
        }

        return hits / (double)queries;
    }

    private static int QueryCount<TTruth>(ReadOnlySpan<long> foundIds, int foundK, ReadOnlySpan<TTruth> groundTruthIds, int groundTruthK)
    {
        int foundRows = ShapeGuard.RowCount(foundIds.Length, foundK, nameof(foundIds), nameof(foundK));
        int truthRows = ShapeGuard.RowCount(groundTruthIds.Length, groundTruthK, nameof(groundTruthIds), nameof(groundTruthK));
        if (foundRows != truthRows)
            throw new ArgumentException(
                $"foundIds holds {foundRows} query rows but groundTruthIds holds {truthRows}; they must describe the same queries.",
                nameof(groundTruthIds));
        return foundRows;
    }

    private static int CountCommonDistinct(ReadOnlySpan<long> sortedA, ReadOnlySpan<long> sortedB)
    {
        int i = 0, j = 0, count = 0;
        bool any = false;
        long last = 0;
        while (i < sortedA.Length && j < sortedB.Length)
        {
            long a = sortedA[i], b = sortedB[j];
            if (a < b)
            {
                i++;
            }
            else if (a > b)
            {
                j++;
            }
            else
            {
                if (a != SearchResult.MissingId && (!any || a != last))
                {
                    count++;
                    last = a;
                    any = true;
                }

                i++;
                j++;
            }
        }

        return count;
    }
}
