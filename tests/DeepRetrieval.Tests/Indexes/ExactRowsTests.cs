using DeepRetrieval.Indexes;
using FluentAssertions;

namespace DeepRetrieval.Tests.Indexes;

public class ExactRowsTests
{
    [Fact]
    public void Store_KeepsTheNarrowestExactFormat_AndWidensWithoutChangingEarlierRows()
    {
        const int d = 37;
        var pixels = Enumerable.Range(0, d).Select(j => (float)(j * 7 % 256)).ToArray();
        var halves = Enumerable.Range(0, d).Select(j => (float)(Half)(j * 0.3f - 2f)).ToArray();
        var floats = Enumerable.Range(0, d).Select(j => j * 0.1f + 1e-5f).ToArray();
        var store = new ExactRows(d);
        store.Resize(4);
        store.Write(0, pixels, 0);
        store.Format.Should().Be(ExactRows.Storage.Byte);
        store.MemoryUsageBytes.Should().Be(4 * d);
        store.Write(1, halves, 1);
        store.Format.Should().Be(ExactRows.Storage.Half);
        store.Write(2, floats, 2);
        store.Format.Should().Be(ExactRows.Storage.Single);
        store.Write(3, pixels, 3);
        store.Format.Should().Be(ExactRows.Storage.Single); // never narrows again
        store.Row(0).ToArray().Should().Equal(pixels);
        store.Row(1).ToArray().Should().Equal(halves);
        store.Row(2).ToArray().Should().Equal(floats);
        store.Row(3).ToArray().Should().Equal(pixels);
    }

    [Theory]
    [InlineData(-0f)]       // not the byte 0, bit for bit
    [InlineData(256f)]
    [InlineData(2.5f)]
    [InlineData(-3f)]
    public void ValuesThatAreNotBytes_GoToHalves_AndComeBackBitForBit(float value)
    {
        var store = new ExactRows(17);
        store.Resize(1);
        var row = new float[17];
        row[16] = value;
        store.Write(0, row, 0);
        store.Format.Should().Be(ExactRows.Storage.Half);
        BitConverter.SingleToInt32Bits(store.Row(0)[16]).Should().Be(BitConverter.SingleToInt32Bits(value));
    }

    [Fact]
    public void RefineIndex_OverPixels_StoresBytes_AndSearchesExactly()
    {
        const int d = 33;
        var random = new Random(3);
        var data = Enumerable.Range(0, 400 * d).Select(_ => (float)random.Next(256)).ToArray();
        var refined = (RefineFlatIndex)IndexFactory.Create(d, "SQ4,RFlat");
        refined.Train(data);
        refined.Add(data);
        var flat = new FlatIndex(d);
        flat.Add(data);
        refined.KFactor = 400; // every vector re-ranked: the answer must be the exact one
        SearchResult found = refined.Search(data.AsSpan(0, 5 * d), 8);
        SearchResult truth = flat.Search(data.AsSpan(0, 5 * d), 8);
        found.Ids.Should().Equal(truth.Ids);
        found.Distances.Should().Equal(truth.Distances);
        long floatsBytes = 400L * d * sizeof(float);
        refined.MemoryUsageBytes.Should().BeLessThan(floatsBytes / 2 + refined.BaseIndex.MemoryUsageBytes + 400 * 64);

        refined.Remove([0, 7]);
        var back = new float[d];
        refined.Reconstruct(399, back);
        back.Should().Equal(data.AsSpan(399 * d, d).ToArray());
        using var stream = new MemoryStream();
        refined.Save(stream);
        stream.Position = 0;
        var loaded = (RefineFlatIndex)IndexFile.Load(stream);
        loaded.Reconstruct(5, back);
        back.Should().Equal(data.AsSpan(5 * d, d).ToArray());
        loaded.Search(data.AsSpan(d, d), 3).Ids.Should().Equal(refined.Search(data.AsSpan(d, d), 3).Ids);
    }
}
