using DeepRetrieval.Data;

namespace DeepRetrieval.AnnBench;

/// <summary>Base vectors, queries and their exact neighbours (row q of <see cref="GroundTruth"/> belongs to query q).</summary>
internal sealed class BenchDataset
{
    public BenchDataset(string name, Metric metric, VectorSet<float> baseVectors, VectorSet<float> queries, VectorSet<int> groundTruth)
    {
        if (queries.Dimension != baseVectors.Dimension)
            throw new UsageException($"Dataset {name}: queries have dimension {queries.Dimension} but base vectors have {baseVectors.Dimension}.");
        if (groundTruth.Count != queries.Count)
            throw new UsageException($"Dataset {name}: ground truth has {groundTruth.Count} rows for {queries.Count} queries.");
        Name = name;
        Metric = metric;
        Base = baseVectors;
        Queries = queries;
        GroundTruth = groundTruth;
    }

    /// <summary>For example <c>fashion-mnist-784-euclidean</c>.</summary>
    public string Name { get; }

    public Metric Metric { get; }

    public VectorSet<float> Base { get; }

    public VectorSet<float> Queries { get; }

    /// <summary>Exact neighbour ids (base row numbers), closest first, <see cref="VectorSet{T}.Dimension"/> per query.</summary>
    public VectorSet<int> GroundTruth { get; }

    public int Dimension => Base.Dimension;

    public override string ToString() =>
        $"{Name}: {Base.Count:N0} base vectors × {Dimension}, {Queries.Count:N0} queries, ground truth k = {GroundTruth.Dimension}";
}
