using System.Numerics.Tensors;
using DeepRetrieval.Indexes;

namespace DeepRetrieval.Reranking;

/// <summary>
/// Database-side augmentation (DBA, Arandjelović and Zisserman, CVPR 2012; α-weighted as in Radenović, Tolias and
/// Chum, TPAMI 2019): offline, every database vector is replaced by the L2-normalised weighted sum of itself (weight 1)
/// and its <see cref="Neighbors"/> nearest other database vectors, neighbour j weighing max(xᵢ·xⱼ, 0)^α (1 when α = 0).
/// All vectors are updated at once from the original ones, and a vector is never its own neighbour. As a re-ranker it
/// then searches the queries in the augmented database.
/// </summary>
/// <remarks>
/// <para>The neighbours come from the database's own search, so an approximate index keeps this sub-quadratic; an
/// exact <see cref="MatrixDatabase"/> costs one brute-force pass over the database (n² dot products).</para>
/// <para>The augmented copy of the last database seen is kept, so re-ranking several query batches against the same
/// database augments it once.</para>
/// </remarks>
public sealed class DatabaseAugmentation : IReranker
{
    private const int SearchBatch = 4096;
    private readonly Lock _cacheLock = new();
    private IRerankingDatabase? _cachedSource;
    private MatrixDatabase? _cachedAugmented;

    /// <summary>Creates a database-side augmentation.</summary>
    /// <param name="neighbors">k: how many nearest other database vectors are added to each; positive.</param>
    /// <param name="alpha">α ≥ 0: the exponent of the similarity weights; 0 weighs every neighbour 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">k is not positive, or α is negative or not finite.</exception>
    public DatabaseAugmentation(int neighbors, float alpha = 0f)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(neighbors);
        if (!(alpha >= 0f) || !float.IsFinite(alpha))
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be a finite, non-negative number.");
        Neighbors = neighbors;
        Alpha = alpha;
    }

    /// <summary>k: how many nearest other database vectors are added to each.</summary>
    public int Neighbors { get; }

    /// <summary>α: the exponent of the similarity weights.</summary>
    public float Alpha { get; }

    /// <inheritdoc />
    public string Name => $"DBA(k={Neighbors}, α={Alpha:G})";

    /// <summary>Computes the augmented database (offline step).</summary>
    /// <param name="database">The database to augment; its ids and metric are kept.</param>
    /// <param name="progress">Receives progress reports; may be null.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>A new in-memory database holding the augmented vectors under the same ids.</returns>
    /// <exception cref="ArgumentOutOfRangeException">k is not smaller than the number of database vectors.</exception>
    public MatrixDatabase Augment(IRerankingDatabase database, IProgress<RerankingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(database);
        MatrixDatabase source = MatrixDatabase.From(database);
        int n = source.RowCount, d = source.Dimension;
        if (Neighbors >= n)
            throw new ArgumentOutOfRangeException(nameof(Neighbors), Neighbors, $"Neighbors = {Neighbors} must be smaller than the {n} vectors of the database (a vector is not its own neighbour).");

        ReadOnlySpan<long> rowIds = source.RowIds.Span;
        float[] vectors = source.Vectors.ToArray();
        int k = Neighbors + 1;
        var ids = new long[(long)Math.Min(SearchBatch, n) * k];
        var distances = new float[ids.Length];
        var neighborRows = new int[Neighbors];
        for (int first = 0; first < n; first += SearchBatch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(SearchBatch, n - first);
            // The search goes through the caller's database, so an approximate index keeps this sub-quadratic.
            database.Search(source.Vectors.Span.Slice(first * d, count * d), k, ids.AsSpan(0, count * k), distances.AsSpan(0, count * k));
            for (int r = 0; r < count; r++)
            {
                int row = first + r;
                int found = NeighborRowsWithoutSelf(source, ids.AsSpan(r * k, k), rowIds[row], neighborRows);
                Span<float> target = vectors.AsSpan(row * d, d);
                ReadOnlySpan<float> original = source.GetRow(row);
                for (int j = 0; j < found; j++)
                {
                    ReadOnlySpan<float> neighbor = source.GetRow(neighborRows[j]);
                    float weight = QueryExpansion.Weight(TensorPrimitives.Dot(original, neighbor), Alpha);
                    if (weight != 0f) TensorPrimitives.MultiplyAdd(neighbor, weight, target, target);
                }

                RerankingRows.Normalize(target);
            }

            progress?.Report(new RerankingProgress("database augmentation", first + count, n));
        }

        return new MatrixDatabase(vectors, d, source.RowIds.ToArray(), source.Metric);
    }

    /// <inheritdoc />
    public RerankingState Rerank(RerankingState state, IProgress<RerankingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        MatrixDatabase augmented;
        lock (_cacheLock)
        {
            if (!ReferenceEquals(_cachedSource, state.Database) || _cachedAugmented is null)
            {
                _cachedAugmented = Augment(state.Database, progress, cancellationToken);
                _cachedSource = state.Database;
            }

            augmented = _cachedAugmented;
        }

        RankedLists lists = RerankingRows.Search(augmented, state.Queries.Span, state.QueryCount, state.OutputWidth);
        return state with { Database = augmented, Lists = lists };
    }

    /// <summary>The rows of the first k non-self neighbours of a (k + 1)-wide search row; drops the last when self is absent.</summary>
    private int NeighborRowsWithoutSelf(MatrixDatabase source, ReadOnlySpan<long> ids, long selfId, Span<int> rows)
    {
        int found = 0;
        for (int i = 0; i < ids.Length && found < Neighbors; i++)
        {
            long id = ids[i];
            if (id == selfId || id == SearchResult.MissingId) continue;
            int row = source.RowOf(id);
            if (row < 0)
                throw new InvalidDataException($"The database search returned id {id}, which it does not enumerate.");
            rows[found++] = row;
        }

        return found;
    }
}
