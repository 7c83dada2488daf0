using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Hnsw;
using FluentAssertions;

namespace DeepRetrieval.Tests.Indexes;

/// <summary>
/// HNSW keeps no id → slot map while every live node's id is its slot (rows added without ids), and builds one the
/// first time an id differs: every lookup (Contains, Reconstruct, Remove, duplicate checks, id filters, save and load,
/// mapped files) must answer the same either way.
/// </summary>
public sealed class HnswIdMapTests : IDisposable
{
    private const int D = 8, Rows = 400;
    private const long MapEntryBytes = 48;
    private static readonly float[] Data = TestData.Clustered(Rows, D, 10, 3);
    private readonly string _folder = Directory.CreateTempSubdirectory("hnsw-id-map-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static HnswIndex NewIndex() => new(D, Metric.L2, m: 8, efConstruction: 40, seed: 5) { BuildThreads = 1 };

    private static float[] Row(int row) => Data.AsSpan(row * D, D).ToArray();

    [Fact]
    public void RowNumberIds_CostNoMapEntries_WhileOtherIdsCostOneEach()
    {
        HnswIndex rowNumbers = NewIndex();
        rowNumbers.Add(Data);
        HnswIndex offset = NewIndex();
        offset.Add(Data, Enumerable.Range(0, Rows).Select(i => 10_000L + i).ToArray());

        // Same vectors, same slots, same levels: the graphs are the same size, so the difference is the map alone.
        (offset.MemoryUsageBytes - rowNumbers.MemoryUsageBytes).Should().Be(Rows * MapEntryBytes);
        rowNumbers.Contains(0).Should().BeTrue();
        rowNumbers.Contains(Rows - 1).Should().BeTrue();
        rowNumbers.Contains(Rows).Should().BeFalse();
        rowNumbers.Contains(-1).Should().BeFalse();
        rowNumbers.Contains(long.MaxValue).Should().BeFalse();
        offset.Contains(0).Should().BeFalse();
        offset.Contains(10_000 + Rows - 1).Should().BeTrue();
        offset.Reconstruct(10_017).Should().Equal(rowNumbers.Reconstruct(17));
    }

    [Fact]
    public void RemovingRowNumberIds_KeepsNoMap_AndAddingMoreRowsContinuesWithoutOne()
    {
        // The same adds and removes with row-number ids and with ids 10,000 higher: only the second pays for a map.
        HnswIndex index = NewIndex(), offset = NewIndex();
        index.Add(Data.AsSpan(0, 300 * D));
        offset.Add(Data.AsSpan(0, 300 * D), Enumerable.Range(0, 300).Select(i => 10_000L + i).ToArray());
        index.Remove([5L, 7L, 7L]).Should().Be(2);
        offset.Remove([10_005L, 10_007L]);
        index.Contains(5).Should().BeFalse();
        index.Contains(6).Should().BeTrue();
        ((Action)(() => index.Remove([5L]))).Should().Throw<KeyNotFoundException>().WithMessage("*5*");
        ((Action)(() => index.Reconstruct(7))).Should().Throw<KeyNotFoundException>();

        // Ids the index assigns continue from the next id (300), which is also the next slot.
        index.Add(Data.AsSpan(300 * D)).Should().Be(300);
        offset.Add(Data.AsSpan(300 * D), Enumerable.Range(300, 100).Select(i => 10_000L + i).ToArray());
        index.Contains(Rows - 1).Should().BeTrue();
        index.Reconstruct(Rows - 1).Should().Equal(Row(Rows - 1));
        (offset.MemoryUsageBytes - index.MemoryUsageBytes).Should().Be((Rows - 2) * MapEntryBytes);
    }

    [Fact]
    public void ReaddingARemovedId_BuildsTheMap_AndEveryIdStillResolves()
    {
        HnswIndex index = NewIndex();
        index.Add(Data.AsSpan(0, 300 * D));
        index.Remove([5L, 7L]);
        float[] moved = Row(350);
        index.Add(moved, 5L); // slot 300 now holds id 5

        index.Contains(5).Should().BeTrue();
        index.Contains(7).Should().BeFalse();
        index.Reconstruct(5).Should().Equal(moved);
        for (int id = 0; id < 300; id++)
            if (id is not (5 or 7)) index.Reconstruct(id).Should().Equal(Row(id), "id {0} keeps its own row", id);
        index.Search(moved, 1).Ids[0].Should().Be(5);
        index.GetIds().Should().HaveCount(299).And.Contain(5L).And.NotContain(7L);
        ((Action)(() => index.Add(Row(1), 6L))).Should().Throw<ArgumentException>().WithMessage("*6*already*");
        index.Remove([5L, 6L]).Should().Be(2);
        index.Contains(5).Should().BeFalse();
        index.Contains(6).Should().BeFalse();
    }

    [Fact]
    public void ExplicitIdsAfterRowNumbers_AreFoundByLookupsAndIdFilters()
    {
        HnswIndex index = NewIndex();
        index.Add(Data.AsSpan(0, 200 * D));
        index.Add(Data.AsSpan(200 * D), Enumerable.Range(0, 200).Select(i => 5_000L + i).ToArray());

        index.Contains(199).Should().BeTrue();
        index.Contains(200).Should().BeFalse();
        index.Reconstruct(5_000).Should().Equal(Row(200));
        index.Reconstruct(42).Should().Equal(Row(42));
        ((Action)(() => index.Add(Row(0), 42L))).Should().Throw<ArgumentException>().WithMessage("*42*already*");

        // An id filter resolves both kinds of id to their slots.
        var selector = new IdSelectorBatch([42L, 5_010L]);
        SearchResult filtered = index.Search(Row(42), 2, new SearchOptions { Selector = selector });
        filtered.Ids.ToArray().Should().BeEquivalentTo([42L, 5_010L]);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void SavedIndexes_LoadAndMapWithTheSameIds(bool otherIds, bool mapped)
    {
        HnswIndex index = NewIndex();
        if (otherIds) index.Add(Data, Enumerable.Range(0, Rows).Select(i => 3L * i + 1).ToArray());
        else index.Add(Data);
        long[] removed = otherIds ? [4L, 31L] : [1L, 10L];
        index.Remove(removed);
        string path = Path.Combine(_folder, $"hnsw-{otherIds}.dri");
        IndexFile.Save(index, path);

        IVectorIndex copy = mapped ? IndexFile.Map(path) : IndexFile.Load(path);
        try
        {
            copy.GetIds().Should().Equal(index.GetIds());
            foreach (long id in index.GetIds())
            {
                copy.Contains(id).Should().BeTrue();
                copy.Reconstruct(id).Should().Equal(index.Reconstruct(id));
            }
            foreach (long id in removed) copy.Contains(id).Should().BeFalse();
            copy.Contains(otherIds ? 0 : Rows).Should().BeFalse();
            if (!mapped)
            {
                // The loaded index grows on: a row-number id continues without a map, an id in use is refused.
                ((Action)(() => copy.Add(Row(0), index.GetIds()[3]))).Should().Throw<ArgumentException>();
                copy.Add(Row(0), 1_000_000L);
                copy.Contains(1_000_000).Should().BeTrue();
                copy.Contains(index.GetIds()[3]).Should().BeTrue();
            }
        }
        finally
        {
            (copy as IDisposable)?.Dispose();
        }
    }
}
