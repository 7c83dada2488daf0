using Microsoft.Extensions.VectorData;

namespace DeepRetrieval.VectorData.CrashHost;

/// <summary>The record the crash host writes; every field is a function of its number, so a reader can check it.</summary>
public sealed class CrashRecord
{
    /// <summary>The collection the host writes to.</summary>
    public const string CollectionName = "crash";

    /// <summary>Dimension of the vectors.</summary>
    public const int Dimension = 16;

    /// <summary>The key: the record number.</summary>
    [VectorStoreKey]
    public long Id { get; set; }

    /// <summary>"record-N".</summary>
    [VectorStoreData(IsIndexed = true)]
    public string Label { get; set; } = "";

    /// <summary>Tags derived from N.</summary>
    [VectorStoreData]
    public string[] Tags { get; set; } = [];

    /// <summary>A vector derived from N.</summary>
    [VectorStoreVector(Dimension, DistanceFunction = DistanceFunction.EuclideanSquaredDistance, IndexKind = IndexKind.Hnsw)]
    public ReadOnlyMemory<float> Vector { get; set; }

    /// <summary>The record numbered <paramref name="n"/>.</summary>
    public static CrashRecord Create(int n) => new()
    {
        Id = n,
        Label = $"record-{n}",
        Tags = [$"mod3-{n % 3}", $"mod5-{n % 5}"],
        Vector = VectorOf(n),
    };

    /// <summary>The vector of record <paramref name="n"/>.</summary>
    public static float[] VectorOf(int n)
    {
        var v = new float[Dimension];
        for (int i = 0; i < Dimension; i++) v[i] = MathF.Sin(n * 0.37f + i * 1.3f) * 10;
        return v;
    }
}
