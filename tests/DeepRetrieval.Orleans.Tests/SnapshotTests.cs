using DeepRetrieval.Orleans.Storage;
using DeepRetrieval.VectorData.Storage;

namespace DeepRetrieval.Orleans.Tests;

public sealed class SnapshotTests
{
    private static readonly RecordSchema Schema = new(
        new KeyColumn("Id", ScalarKind.Int32, false),
        [new DataColumn("Name", new ColumnType(ScalarKind.String, CollectionKind.None, true), false, false)],
        [new VectorColumn("V", 4, "EuclideanSquaredDistance", "HNSW32")]);

    [Theory]
    [InlineData(7)] // many chunks, rows and index bytes split mid-value
    [InlineData(1 << 20)] // one chunk
    public void ATable_RoundTripsThroughChunkedSnapshotParts(int chunkBytes)
    {
        using var table = Filled(300);
        List<byte[]> rows = ShardSnapshot.EncodeRows(table, chunkBytes);
        List<byte[]> index = ShardSnapshot.EncodeIndex(table, 0, chunkBytes);
        rows.Should().OnlyContain(c => c.Length <= chunkBytes);
        rows.Take(rows.Count - 1).All(c => c.Length == chunkBytes).Should().BeTrue("every chunk but the last is full");

        using var loaded = new RecordTable(Schema);
        ShardSnapshot.Load(loaded, rows, [index], "test");
        loaded.Count.Should().Be(table.Count);
        loaded.NextId.Should().Be(table.NextId);
        loaded.GetIndex(0).Kind.Should().Be(table.GetIndex(0).Kind);
        loaded.Get(17)!.GetValue(0).Should().Be("name 17");
        loaded.Get(3).Should().BeNull("deleted rows stay deleted");
        float[] query = [1, 2, 3, 4];
        loaded.Search(0, query, 10, 0, null, null).Select(h => (h.Row.Key, h.Score))
            .Should().Equal(table.Search(0, query, 10, 0, null, null).Select(h => (h.Row.Key, h.Score)));
    }

    [Fact]
    public void Load_WithoutIndexParts_RebuildsTheIndexes()
    {
        using var table = Filled(50);
        using var loaded = new RecordTable(Schema);
        ShardSnapshot.Load(loaded, ShardSnapshot.EncodeRows(table, 64), [null], "test");
        loaded.GetIndex(0).Count.Should().Be(49);
    }

    [Fact]
    public void Load_RejectsCorruptOrTruncatedRows()
    {
        using var table = Filled(40);
        byte[] rows = ShardSnapshot.EncodeRows(table, 1 << 20).Single();
        byte[] flipped = (byte[])rows.Clone();
        flipped[rows.Length / 2] ^= 0x40;
        Load(flipped).Should().Throw<InvalidDataException>().WithMessage("*checksum*");
        Load(rows[..^1]).Should().Throw<InvalidDataException>();
        Load(rows[..10]).Should().Throw<InvalidDataException>().WithMessage("*shorter than its header*");
        byte[] magic = (byte[])rows.Clone();
        magic[0] = (byte)'X';
        Load(magic).Should().Throw<InvalidDataException>();
    }

    [Fact]
    public void ChunkReadStream_ReadsAndSeeksAcrossChunks()
    {
        byte[] data = Enumerable.Range(0, 100).Select(i => (byte)i).ToArray();
        var stream = new ChunkReadStream([data[..30], data[30..60], data[60..]]);
        stream.Length.Should().Be(100);
        stream.Position = 25;
        var buffer = new byte[50];
        stream.ReadAtLeast(buffer, 50).Should().Be(50);
        buffer.Should().Equal(data[25..75]);
        stream.Seek(-5, SeekOrigin.End).Should().Be(95);
        stream.Read(buffer, 0, 50).Should().Be(5);
        buffer[..5].Should().Equal(data[95..]);
    }

    private static Func<object> Load(byte[] rows) => () =>
    {
        using var loaded = new RecordTable(Schema);
        ShardSnapshot.Load(loaded, [rows], [null], "test");
        return loaded;
    };

    private static RecordTable Filled(int count)
    {
        var table = new RecordTable(Schema);
        var random = new Random(3);
        var rows = Enumerable.Range(0, count).Select(i => new RecordRow(i, [$"name {i}"],
            [Enumerable.Range(0, 4).Select(_ => (float)random.NextDouble()).ToArray()])).ToList();
        table.Apply(table.PrepareUpsert(rows));
        table.ApplyDelete(table.PrepareDelete([3]));
        return table;
    }
}
