using DeepRetrieval.Indexes;
using DeepRetrieval.VectorData.Scoring;

namespace DeepRetrieval.VectorData.Storage;

/// <summary>
/// The index of one vector column: the target index of its <see cref="IndexPlan"/>, or the exact staging index that serves
/// the column until the target can be trained. Not thread-safe by itself; <see cref="RecordTable"/> serialises writes.
/// </summary>
internal sealed class VectorColumnIndex
{
    private long _promoteAt;

    public VectorColumnIndex(VectorColumn column, ScoreConvention convention, IndexPlan plan, long trainingThreshold)
    {
        Column = column;
        Convention = convention;
        Plan = plan;
        _promoteAt = Math.Max(1, trainingThreshold);
        Index = plan.NeedsPromotion ? plan.CreateStaging() : plan.CreateTarget(0);
        IsStaging = plan.NeedsPromotion;
    }

    public VectorColumn Column { get; }

    public ScoreConvention Convention { get; }

    public IndexPlan Plan { get; }

    public IVectorIndex Index { get; private set; }

    /// <summary>True while the column is served by the exact staging index.</summary>
    public bool IsStaging { get; private set; }

    /// <summary>True when searches are exact (a Flat index), so a short result means fewer matches exist.</summary>
    public bool IsExact => Index.Kind == FlatIndex.KindName;

    /// <summary>True when the staging index holds enough vectors to train the target.</summary>
    public bool IsPromotionDue => IsStaging && Index.Count >= _promoteAt;

    /// <summary>Replaces the index with one loaded from disk, after checking that it fits the column.</summary>
    public void Load(IVectorIndex index)
    {
        if (index.Dimension != Column.Dimension || index.Metric != Convention.Metric)
            throw new InvalidDataException(
                $"The index file of vector column '{Column.Name}' holds a {index.Dimension}-dimensional {index.Metric} index; the column is {Column.Dimension}-dimensional with {Convention.Metric}.");
        IsStaging = Plan.NeedsPromotion && index.Kind == FlatIndex.KindName;
        if (!IsStaging) Plan.ApplySearchParameters(index);
        Index = index;
    }

    /// <summary>Applies removals then additions (ids and row-major vectors).</summary>
    public void Apply(ReadOnlySpan<long> removeIds, ReadOnlySpan<float> addVectors, ReadOnlySpan<long> addIds)
    {
        if (!removeIds.IsEmpty) Index.Remove(removeIds);
        if (!addIds.IsEmpty) Index.Add(addVectors, addIds);
    }

    /// <summary>
    /// Trains and fills the target index on every vector of the column. Returns null (and postpones the next attempt until the
    /// column has doubled) when training rejects the data, for example too few vectors for the lists a description asks for.
    /// </summary>
    public IVectorIndex? BuildPromoted(IReadOnlyList<(long Id, float[] Vector)> vectors, out string? failure)
    {
        failure = null;
        int dimension = Column.Dimension;
        var flat = new float[(long)vectors.Count * dimension];
        var ids = new long[vectors.Count];
        for (int i = 0; i < vectors.Count; i++)
        {
            ids[i] = vectors[i].Id;
            vectors[i].Vector.CopyTo(flat, (long)i * dimension);
        }
        IVectorIndex target = Plan.CreateTarget(vectors.Count);
        try
        {
            target.Train(flat);
            target.Add(flat, ids);
            return target;
        }
        catch (ArgumentException e)
        {
            _promoteAt = Math.Max(_promoteAt * 2, vectors.Count + 1L);
            failure = e.Message;
            return null;
        }
    }

    /// <summary>Switches to a promoted index.</summary>
    public void Promote(IVectorIndex target)
    {
        Index = target;
        IsStaging = false;
    }
}
