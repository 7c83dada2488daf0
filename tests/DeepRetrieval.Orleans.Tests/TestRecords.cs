using Microsoft.Extensions.VectorData;

namespace DeepRetrieval.Orleans.Tests;

/// <summary>A record with data columns to filter and sort on and one 8-dimensional vector.</summary>
public sealed class Item
{
    public int Id { get; set; }

    public string Category { get; set; } = "";

    public int Price { get; set; }

    public string[] Tags { get; set; } = [];

    public ReadOnlyMemory<float> Embedding { get; set; }

    public const int Dimension = 8;

    public static VectorStoreCollectionDefinition Definition(string distanceFunction, string indexKind = IndexKind.Flat) => new()
    {
        Properties =
        [
            new VectorStoreKeyProperty(nameof(Id), typeof(int)),
            new VectorStoreDataProperty(nameof(Category), typeof(string)) { IsIndexed = true },
            new VectorStoreDataProperty(nameof(Price), typeof(int)) { IsIndexed = true },
            new VectorStoreDataProperty(nameof(Tags), typeof(string[])) { IsIndexed = true },
            new VectorStoreVectorProperty(nameof(Embedding), typeof(ReadOnlyMemory<float>), Dimension) { DistanceFunction = distanceFunction, IndexKind = indexKind },
        ],
    };

    /// <summary>
    /// Records whose vector components are small integers (0, 1 or 2, never all zero), so many vectors repeat and many scores
    /// tie; categories and prices cycle so filters keep a known share.
    /// </summary>
    public static List<Item> Generate(int count, int seed, int firstId = 0)
    {
        var random = new Random(seed);
        var items = new List<Item>(count);
        for (int i = 0; i < count; i++)
        {
            var v = new float[Dimension];
            do
            {
                for (int d = 0; d < Dimension; d++) v[d] = random.Next(3);
            }
            while (v.All(x => x == 0));
            int id = firstId + i;
            items.Add(new Item
            {
                Id = id,
                Category = (id % 3) switch { 0 => "a", 1 => "b", _ => "c" },
                Price = id % 100,
                Tags = id % 4 == 0 ? ["sale", "new"] : id % 4 == 1 ? ["new"] : [],
                Embedding = v,
            });
        }
        return items;
    }

    public static float[] Query(Random random)
    {
        var q = new float[Dimension];
        do
        {
            for (int d = 0; d < Dimension; d++) q[d] = random.Next(3);
        }
        while (q.All(x => x == 0));
        return q;
    }
}
