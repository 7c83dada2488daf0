using System.Globalization;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;

namespace DeepRetrieval.VectorData.Tests;

/// <summary>Embedding generation through the abstraction's <see cref="IEmbeddingGenerator"/>: on upsert (once per batch) and on search.</summary>
public sealed class EmbeddingGenerationTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>Parses "[x, y, z]" into a vector and adds <c>offset</c> to the last component; counts calls.</summary>
    private sealed class ParsingGenerator(float offset) : IEmbeddingGenerator<string, Embedding<float>>
    {
        public int Calls { get; private set; }

        public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
        {
            Calls++;
            var result = new GeneratedEmbeddings<Embedding<float>>();
            foreach (string value in values)
            {
                float[] v = value.Trim('[', ']').Split(',').Select(s => float.Parse(s, CultureInfo.InvariantCulture)).ToArray();
                v[^1] += offset;
                result.Add(new Embedding<float>(v));
            }
            return Task.FromResult(result);
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    public sealed class Document
    {
        [VectorStoreKey] public int Key { get; set; }
        [VectorStoreData] public string? Text { get; set; }
        [VectorStoreVector(3, DistanceFunction = DistanceFunction.EuclideanSquaredDistance)] public string? Embedding { get; set; }
    }

    [Fact]
    public async Task Upsert_GeneratesOncePerBatch_AndSearchEmbedsTheQuery()
    {
        var generator = new ParsingGenerator(0);
        using var store = new DeepRetrievalVectorStore(_folder.Path, new DeepRetrievalVectorStoreOptions { EmbeddingGenerator = generator });
        using var collection = store.GetCollection<int, Document>("docs");
        await collection.EnsureCollectionExistsAsync();

        await collection.UpsertAsync([
            new Document { Key = 1, Text = "one", Embedding = "[1, 0, 0]" },
            new Document { Key = 2, Text = "two", Embedding = "[0, 1, 0]" },
            new Document { Key = 3, Text = "none", Embedding = null },
        ]);
        var hit = await collection.SearchAsync("[0, 0.9, 0]", top: 1).SingleAsync();

        generator.Calls.Should().Be(2, "one call for the batch, one for the query");
        hit.Record.Text.Should().Be("two");
        hit.Score!.Value.Should().BeApproximately(0.01, 1e-6);
        (await collection.GetAsync(3)).Should().NotBeNull("a record whose input is null is stored without a vector");
    }

    [Fact]
    public async Task PropertyGenerators_TakePrecedence_OverCollectionAndStoreOnes()
    {
        var definition = new VectorStoreCollectionDefinition
        {
            Properties =
            [
                new VectorStoreKeyProperty("Key", typeof(int)),
                new VectorStoreDataProperty("Text", typeof(string)),
                new VectorStoreVectorProperty("Embedding", typeof(string), 3) { DistanceFunction = DistanceFunction.EuclideanSquaredDistance, EmbeddingGenerator = new ParsingGenerator(3) },
            ],
        };
        using var store = new DeepRetrievalVectorStore(_folder.Path, new DeepRetrievalVectorStoreOptions { EmbeddingGenerator = new ParsingGenerator(1) });
        using var collection = store.GetCollection<int, Document>("precedence", definition);
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(new Document { Key = 1, Text = "x", Embedding = "[1, 1, 0]" }); // stored as [1, 1, 3]

        var hit = await collection.SearchAsync(new ReadOnlyMemory<float>([1, 1, 3]), top: 1).SingleAsync();

        hit.Score.Should().Be(0);
    }

    [Fact]
    public async Task IncludeVectors_IsRefused_WhenEmbeddingsAreGenerated()
    {
        using var store = new DeepRetrievalVectorStore(_folder.Path, new DeepRetrievalVectorStoreOptions { EmbeddingGenerator = new ParsingGenerator(0) });
        using var collection = store.GetCollection<int, Document>("docs");
        await collection.EnsureCollectionExistsAsync();

        Func<Task> search = () => collection.SearchAsync("[1, 0, 0]", top: 1, new() { IncludeVectors = true }).ToListAsync().AsTask();
        Func<Task> get = () => collection.GetAsync(1, new() { IncludeVectors = true });
        Func<Task> incompatible = () => collection.SearchAsync(8, top: 1).ToListAsync().AsTask();

        await search.Should().ThrowAsync<NotSupportedException>();
        await get.Should().ThrowAsync<NotSupportedException>();
        (await incompatible.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("'int'");
    }

    [Fact]
    public void AStringVectorProperty_WithoutAGenerator_IsRejected()
    {
        using var store = new DeepRetrievalVectorStore(_folder.Path);
        Action act = () => store.GetCollection<int, Document>("docs");
        act.Should().Throw<InvalidOperationException>().WithMessage("*Embedding*");
    }
}
