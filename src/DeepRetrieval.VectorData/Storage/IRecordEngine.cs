using DeepRetrieval.VectorData.Filtering;

namespace DeepRetrieval.VectorData.Storage;

/// <summary>
/// The records of one collection, wherever they live: a folder on this machine (<c>DurableRecordEngine</c>) or shards of a
/// cluster. <c>DeepRetrievalCollection</c> maps records, translates filters and generates embeddings on top of any engine, so
/// an application moves between them by configuration. Implementations must be thread-safe.
/// </summary>
/// <remarks>Filters arrive as <see cref="FilterNode"/> trees (serialisable), keys as the collection's key type, scores leave in
/// the column's <c>ScoreConvention</c>. A disposed or deleted engine throws <see cref="ObjectDisposedException"/>.</remarks>
public interface IRecordEngine : IDisposable
{
    /// <summary>The record shape.</summary>
    RecordSchema Schema { get; }

    /// <summary>Stores rows (insert or replace by key) atomically: when this completes they are durable; when it throws none was stored.</summary>
    /// <param name="rows">The rows.</param>
    /// <param name="cancellationToken">Honoured until the write starts.</param>
    Task UpsertAsync(IReadOnlyList<RecordRow> rows, CancellationToken cancellationToken);

    /// <summary>Deletes the records with these keys (unknown keys are ignored), atomically and durably.</summary>
    /// <param name="keys">The keys.</param>
    /// <param name="cancellationToken">Honoured until the write starts.</param>
    Task DeleteAsync(IReadOnlyList<object> keys, CancellationToken cancellationToken);

    /// <summary>The stored rows of these keys (missing keys are skipped), in key order of the request.</summary>
    /// <param name="keys">The keys.</param>
    /// <param name="includeVectors">Return the vectors too.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    Task<IReadOnlyList<RecordRow>> GetAsync(IReadOnlyList<object> keys, bool includeVectors, CancellationToken cancellationToken);

    /// <summary>The rows passing a filter, sorted, paged.</summary>
    /// <param name="filter">The filter, or null for all.</param>
    /// <param name="orderBy">Sort keys, or empty for insertion order.</param>
    /// <param name="skip">Rows to skip.</param>
    /// <param name="top">Rows to return at most.</param>
    /// <param name="includeVectors">Return the vectors too.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    Task<IReadOnlyList<RecordRow>> QueryAsync(FilterNode? filter, IReadOnlyList<OrderByColumn> orderBy, int skip, int top, bool includeVectors, CancellationToken cancellationToken);

    /// <summary>Vector search in one column, closest first (see <see cref="RecordTable.Search"/>).</summary>
    /// <param name="vectorColumn">Position in <see cref="RecordSchema.Vectors"/>.</param>
    /// <param name="query">The query vector.</param>
    /// <param name="top">Results at most.</param>
    /// <param name="skip">Closest results to skip.</param>
    /// <param name="filter">Pre-filter, or null.</param>
    /// <param name="scoreThreshold">Score cut-off, or null.</param>
    /// <param name="includeVectors">Return the vectors too.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    Task<IReadOnlyList<ScoredRow>> SearchAsync(int vectorColumn, ReadOnlyMemory<float> query, int top, int skip, FilterNode? filter,
        double? scoreThreshold, bool includeVectors, CancellationToken cancellationToken);

    /// <summary>Vector plus BM25 keyword search fused by reciprocal rank (see <see cref="RecordTable.HybridSearch"/>).</summary>
    /// <param name="vectorColumn">Position in <see cref="RecordSchema.Vectors"/>.</param>
    /// <param name="query">The query vector.</param>
    /// <param name="keywords">Keywords.</param>
    /// <param name="textColumn">Position of a full-text indexed column in <see cref="RecordSchema.Data"/>.</param>
    /// <param name="top">Results at most.</param>
    /// <param name="skip">Best results to skip.</param>
    /// <param name="filter">Pre-filter, or null.</param>
    /// <param name="scoreThreshold">Fused-score cut-off, or null.</param>
    /// <param name="includeVectors">Return the vectors too.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    Task<IReadOnlyList<ScoredRow>> HybridSearchAsync(int vectorColumn, ReadOnlyMemory<float> query, IReadOnlyList<string> keywords, int textColumn,
        int top, int skip, FilterNode? filter, double? scoreThreshold, bool includeVectors, CancellationToken cancellationToken);
}
