namespace DeepRetrieval.VectorData.Storage;

/// <summary>
/// A validated upsert, ready to be made durable and applied: one entry per distinct key (the last occurrence wins), each with
/// the internal 64-bit id it is stored under (its existing id when the key is already stored, a new one otherwise).
/// </summary>
public sealed class UpsertBatch
{
    internal UpsertBatch(long[] ids, RecordRow[] rows, long nextId)
    {
        Ids = ids;
        Rows = rows;
        NextId = nextId;
    }

    /// <summary>The ids, one per row.</summary>
    public IReadOnlyList<long> Ids { get; }

    /// <summary>The rows.</summary>
    public IReadOnlyList<RecordRow> Rows { get; }

    /// <summary>One past the largest id after this batch.</summary>
    public long NextId { get; }

    /// <summary>Rebuilds a batch read back from a log.</summary>
    /// <param name="ids">The ids.</param>
    /// <param name="rows">The rows, one per id.</param>
    public static UpsertBatch FromLog(long[] ids, RecordRow[] rows)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(rows);
        if (ids.Length != rows.Length) throw new ArgumentException("One id per row is needed.");
        long next = 0;
        foreach (long id in ids)
        {
            if (id < 0) throw new InvalidDataException($"Record id {id} is negative.");
            next = Math.Max(next, id + 1);
        }
        return new UpsertBatch(ids, rows, next);
    }
}
