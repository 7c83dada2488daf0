using Microsoft.Extensions.VectorData;

namespace DeepRetrieval.Samples.SearchService;

/// <summary>A stored item: a key, a title, tags to filter on, and its embedding.</summary>
public sealed class Item
{
    /// <summary>The key.</summary>
    public long Id { get; set; }

    /// <summary>A title.</summary>
    public string Title { get; set; } = "";

    /// <summary>Tags; searches can require one.</summary>
    public string[] Tags { get; set; } = [];

    /// <summary>The embedding.</summary>
    public float[] Embedding { get; set; } = [];

    /// <summary>The collection definition for embeddings of <paramref name="dimension"/> components (cosine similarity, HNSW).</summary>
    public static VectorStoreCollectionDefinition Definition(int dimension) => new()
    {
        Properties =
        [
            new VectorStoreKeyProperty(nameof(Id), typeof(long)),
            new VectorStoreDataProperty(nameof(Title), typeof(string)),
            new VectorStoreDataProperty(nameof(Tags), typeof(string[])) { IsIndexed = true },
            new VectorStoreVectorProperty(nameof(Embedding), typeof(float[]), dimension)
            {
                DistanceFunction = DistanceFunction.CosineSimilarity,
                IndexKind = IndexKind.Hnsw,
            },
        ],
    };
}

/// <summary>A search request: a vector, how many results, and optionally a tag every result must carry.</summary>
/// <param name="Vector">The query embedding.</param>
/// <param name="Top">Results to return (default 10).</param>
/// <param name="Tag">A tag the results must have, or null.</param>
public sealed record SearchRequest(float[] Vector, int Top = 10, string? Tag = null);

/// <summary>One search result.</summary>
/// <param name="Id">The item's key.</param>
/// <param name="Title">Its title.</param>
/// <param name="Score">Its cosine similarity to the query.</param>
public sealed record SearchHit(long Id, string Title, double Score);
