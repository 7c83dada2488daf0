using System.Numerics.Tensors;
using DeepRetrieval.Indexes;

namespace DeepRetrieval.Reranking;

/// <summary>Plumbing the re-rankers share: resolving listed ids to rows, searching, normalising, ordering.</summary>
internal static class RerankingRows
{
    /// <summary>
    /// Writes the database rows of the first <paramref name="take"/> present entries of list <paramref name="query"/>
    /// into <paramref name="rows"/> (missing entries are skipped); returns how many were written.
    /// </summary>
    internal static int ListRows(MatrixDatabase database, RankedLists lists, int query, int take, Span<int> rows)
    {
        ReadOnlySpan<long> ids = lists.GetIds(query);
        int count = 0;
        for (int i = 0; i < ids.Length && count < take; i++)
        {
            if (ids[i] == SearchResult.MissingId) continue;
            int row = database.RowOf(ids[i]);
            if (row < 0)
                throw new ArgumentException($"lists: row {query}, rank {i} holds id {ids[i]}, which the database does not hold.", "state");
            rows[count++] = row;
        }

        return count;
    }

    /// <summary>
    /// Reconstructs the vectors of the first <paramref name="take"/> present entries of list <paramref name="query"/>
    /// into consecutive rows of <paramref name="vectors"/> (and their ids into <paramref name="ids"/> when given);
    /// returns how many were written. An id the database does not hold is an error naming the state.
    /// </summary>
    internal static int ListVectors(IRerankingDatabase database, RankedLists lists, int query, int take, Span<float> vectors, Span<long> ids = default)
    {
        ReadOnlySpan<long> listed = lists.GetIds(query);
        int d = database.Dimension, count = 0;
        for (int i = 0; i < listed.Length && count < take; i++)
        {
            long id = listed[i];
            if (id == SearchResult.MissingId) continue;
            if (!database.Contains(id))
                throw new ArgumentException($"lists: row {query}, rank {i} holds id {id}, which the database does not hold.", "state");
            database.Reconstruct(id, vectors.Slice(count * d, d));
            if (!ids.IsEmpty) ids[count] = id;
            count++;
        }

        return count;
    }

    /// <summary>Checks that a neighbourhood size fits the database and the lists.</summary>
    internal static void CheckNeighbors(int neighbors, long databaseCount, int listWidth, string name)
    {
        if (neighbors > databaseCount)
            throw new ArgumentOutOfRangeException(name, neighbors, $"{name} = {neighbors} exceeds the {databaseCount} vectors of the database.");
        if (neighbors > listWidth)
            throw new ArgumentException($"{name} = {neighbors} exceeds the width of the ranked lists ({listWidth}); search deeper first.", name);
    }

    /// <summary>Searches every query for <paramref name="k"/> neighbours and wraps the result.</summary>
    internal static RankedLists Search(IRerankingDatabase database, ReadOnlySpan<float> queries, int queryCount, int k)
    {
        if (k > database.Count)
            throw new ArgumentOutOfRangeException(nameof(RerankingState.OutputWidth), k, $"OutputWidth = {k} exceeds the {database.Count} vectors of the database.");
        var ids = new long[(long)queryCount * k];
        var scores = new float[ids.Length];
        database.Search(queries, k, ids, scores);
        return RankedLists.FromSearch(queryCount, k, ids, scores, database.Metric);
    }

    /// <summary>Scales <paramref name="vector"/> to unit length; a zero vector stays zero.</summary>
    internal static void Normalize(Span<float> vector)
    {
        float norm = TensorPrimitives.Norm(vector);
        if (norm > 0f) TensorPrimitives.Divide(vector, norm, vector);
    }

    /// <summary>
    /// Keeps the best <paramref name="ids"/>.Length of the candidates (<paramref name="candidateScores"/>,
    /// <paramref name="candidateIds"/>), best first, ties by candidate position, padding with −1 / NaN. The two
    /// scratch spans need at least as many entries as the output.
    /// </summary>
    internal static void SelectBest(ReadOnlySpan<float> candidateScores, ReadOnlySpan<long> candidateIds, ScoreOrder order,
        Span<long> ids, Span<float> scores, Span<float> keyScratch, Span<long> positionScratch)
    {
        int width = ids.Length;
        keyScratch = keyScratch[..width];
        positionScratch = positionScratch[..width];
        var heap = new TopKHeap(keyScratch, positionScratch);
        bool larger = order == ScoreOrder.LargerIsBetter;
        for (int i = 0; i < candidateScores.Length; i++)
        {
            float key = larger ? -candidateScores[i] : candidateScores[i];
            if (key <= heap.Threshold) heap.Push(key, i);
        }

        int kept = heap.SortAndPad();
        for (int i = 0; i < width; i++)
        {
            if (i < kept)
            {
                ids[i] = candidateIds[(int)positionScratch[i]];
                scores[i] = larger ? -keyScratch[i] : keyScratch[i];
            }
            else
            {
                ids[i] = SearchResult.MissingId;
                scores[i] = float.NaN;
            }
        }
    }
}
