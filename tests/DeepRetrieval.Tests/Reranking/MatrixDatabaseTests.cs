using DeepRetrieval.Indexes;
using DeepRetrieval.Reranking;

namespace DeepRetrieval.Tests.Reranking;

public class MatrixDatabaseTests
{
    [Fact]
    public void Constructor_RejectsBadVectorsAndIds()
    {
        FluentActions.Invoking(() => new MatrixDatabase([1f, 2f, 3f], 2)).Should().Throw<ArgumentException>().WithParameterName("vectors");
        FluentActions.Invoking(() => new MatrixDatabase([1f, float.NaN], 2)).Should().Throw<ArgumentException>().WithParameterName("vectors").WithMessage("*NaN*");
        FluentActions.Invoking(() => new MatrixDatabase([1f, 2f, 3f, 4f], 2, [3, 3])).Should().Throw<ArgumentException>().WithParameterName("ids").WithMessage("*repeats*");
        FluentActions.Invoking(() => new MatrixDatabase([1f, 2f, 3f, 4f], 2, [-1, 3])).Should().Throw<ArgumentException>().WithParameterName("ids");
        FluentActions.Invoking(() => new MatrixDatabase([1f, 2f, 3f, 4f], 2, [1])).Should().Throw<ArgumentException>().WithParameterName("ids");
    }

    [Fact]
    public void Members_AnswerByCallerId()
    {
        var database = new MatrixDatabase([1f, 0f, 0f, 1f, 0.6f, 0.8f], 2, [30, 10, 20]);
        database.RowOf(10).Should().Be(1);
        database.RowOf(11).Should().Be(-1);
        database.Contains(20).Should().BeTrue();
        database.Ids.Should().Equal(30, 10, 20);
        var vector = new float[2];
        database.Reconstruct(20, vector);
        vector.Should().Equal(0.6f, 0.8f);
        FluentActions.Invoking(() => database.Reconstruct(5, vector)).Should().Throw<KeyNotFoundException>();

        var ids = new long[2];
        var scores = new float[2];
        database.Search([0.6f, 0.8f], 2, ids, scores);
        ids.Should().Equal(20, 10);
    }

    [Fact]
    public void From_CopiesAnyDatabase_ThroughItsIdsAndReconstruct()
    {
        var index = new FlatIndex(2, Metric.InnerProduct);
        index.Add([1f, 0f, 0f, 1f], [7, 9]);
        var adapter = new FlatIndexDatabase(index, [7, 9]);

        MatrixDatabase copy = MatrixDatabase.From(adapter);

        copy.RowIds.ToArray().Should().Equal(7, 9);
        copy.Vectors.ToArray().Should().Equal(1f, 0f, 0f, 1f);
        copy.Metric.Should().Be(Metric.InnerProduct);
    }

    /// <summary>What an index adapter looks like: every member forwards to the index.</summary>
    private sealed class FlatIndexDatabase(FlatIndex index, long[] ids) : IRerankingDatabase
    {
        public int Dimension => index.Dimension;
        public Metric Metric => index.Metric;
        public long Count => index.Count;
        public IEnumerable<long> Ids => ids;
        public bool Contains(long id) => index.Contains(id);
        public void Reconstruct(long id, Span<float> destination) => index.Reconstruct(id, destination);
        public void Search(ReadOnlySpan<float> queries, int k, Span<long> found, Span<float> distances, SearchOptions? options = null) =>
            index.Search(queries, k, found, distances, options);
    }
}
