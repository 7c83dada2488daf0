using DeepRetrieval.Distances;
using DeepRetrieval.Indexes;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Tests.Indexes;

public class BinaryFlatIndexTests
{
    private static byte[] RandomCodes(int count, int codeSize, int seed)
    {
        var codes = new byte[count * codeSize];
        new Random(seed).NextBytes(codes);
        return codes;
    }

    [Fact]
    public void SearchCodes_ReturnsHammingDistancesWorkedOutByHand()
    {
        var index = new BinaryFlatIndex(16);
        // Distances from the zero query: 0, 8, 2 and 8 differing bits.
        index.AddCodes([0x00, 0x00, 0xFF, 0x00, 0x01, 0x80, 0x0F, 0xF0], [10, 11, 12, 13]);
        var ids = new long[5];
        var distances = new int[5];
        index.SearchCodes([0x00, 0x00], 5, ids, distances);
        ids.Should().Equal(10L, 12L, 11L, 13L, -1L);
        distances.Should().Equal(0, 2, 8, 8, -1);

        // 0x01,0x80 against each: 2, 8 (0xFE has 7 bits, 0x80 one), 0, 6 (0x0E and 0x70 have 3 each).
        index.SearchCodes([0x01, 0x80], 4, ids, distances);
        ids[..4].Should().Equal(12L, 10L, 13L, 11L);
        distances[..4].Should().Equal(0, 2, 6, 8);
    }

    [Fact]
    public void Add_BinarisesBySign_BitJInByteJOver8()
    {
        var index = new BinaryFlatIndex(16);
        // Positive components 0, 3, 7 (zero is not positive), then 8 and 15 in the second byte.
        index.Add([1f, -1f, 0f, 2f, 0f, -3f, 0f, 0.5f, 4f, 0f, 0f, 0f, 0f, 0f, 0f, 9f], [7]);
        var code = new byte[2];
        index.ReconstructCode(7, code);
        code.Should().Equal((byte)0x89, (byte)0x81);
        FluentActions.Invoking(() => index.ReconstructCode(8, code)).Should().Throw<KeyNotFoundException>();
    }

    [Fact]
    public void Search_OnFloats_ReportsHammingCountsOfTheSignCodes()
    {
        var index = new BinaryFlatIndex(8);
        index.Add([1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, -1f, 1f, 1f, 1f, -1f, 1f, 1f, 1f, -1f, -1f, -1f, -1f, -1f, -1f, -1f, -1f]);
        SearchResult result = index.Search([5f, 5f, 5f, 5f, 5f, 5f, 5f, 5f], 3);
        result.Ids.Should().Equal(0L, 1L, 2L);
        result.Distances.Should().Equal(0f, 2f, 8f);
        index.Metric.Should().Be(Metric.L2);
        index.Kind.Should().Be("BFlat");
    }

    [Theory]
    [InlineData(64, 1)]
    [InlineData(128, 2)]
    [InlineData(256, 2)]
    [InlineData(512, 1)]
    [InlineData(24, 2)] // 3-byte codes take the general path
    [InlineData(200, 2)] // 25 bytes: words plus a tail
    public void SearchCodes_MatchesBruteForce(int bits, int threads)
    {
        int codeSize = bits / 8;
        const int n = 700, nq = 6, k = 9; // more than one 256-code block
        byte[] codes = RandomCodes(n, codeSize, bits);
        byte[] queries = RandomCodes(nq, codeSize, bits + 1);
        var index = new BinaryFlatIndex(bits);
        long[] stored = Enumerable.Range(0, n).Select(i => (long)(3 * i + 1)).ToArray();
        index.AddCodes(codes, stored);
        var ids = new long[nq * k];
        var distances = new int[nq * k];
        index.SearchCodes(queries, k, ids, distances, new SearchOptions { MaxDegreeOfParallelism = threads });
        for (int q = 0; q < nq; q++)
        {
            var expected = Enumerable.Range(0, n)
                .Select(i => (Distance: ScalarDistance.Hamming(queries.AsSpan(q * codeSize, codeSize), codes.AsSpan(i * codeSize, codeSize)), Id: stored[i]))
                .OrderBy(p => p.Distance).ThenBy(p => p.Id).Take(k).ToArray();
            ids.AsSpan(q * k, k).ToArray().Should().Equal(expected.Select(p => p.Id));
            distances.AsSpan(q * k, k).ToArray().Should().Equal(expected.Select(p => p.Distance));
        }
    }

    [Fact]
    public void BadInputs_AreRejectedWithClearMessages()
    {
        FluentActions.Invoking(() => new BinaryFlatIndex(12)).Should().Throw<ArgumentException>().WithMessage("*multiple of 8*12*");
        var index = new BinaryFlatIndex(16);
        FluentActions.Invoking(() => index.AddCodes([1, 2, 3], [0])).Should().Throw<ArgumentException>().WithMessage("*code length*");
        FluentActions.Invoking(() => index.AddCodes([1, 2], [-1])).Should().Throw<ArgumentException>().WithMessage("*non-negative*");
        FluentActions.Invoking(() => index.AddCodes([1, 2, 3, 4], [5, 5])).Should().Throw<ArgumentException>().WithMessage("*twice*");
        index.Count.Should().Be(0);
        FluentActions.Invoking(() => index.SearchCodes([1, 2, 3], 1, new long[2], new int[2])).Should().Throw<ArgumentException>().WithMessage("*code length*");
        FluentActions.Invoking(() => index.SearchCodes([1, 2], 0, new long[2], new int[2])).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => index.SearchCodes([1, 2], 3, new long[2], new int[2])).Should().Throw<ArgumentException>().WithMessage("*queryCount × k = 3*");
        var nan = new float[16];
        nan[3] = float.NaN;
        FluentActions.Invoking(() => index.Add(nan)).Should().Throw<ArgumentException>().WithMessage("*NaN*");
        FluentActions.Invoking(() => index.Add(new float[15])).Should().Throw<ArgumentException>().WithMessage("*dimension 16*");
        FluentActions.Invoking(() => index.Search(new float[16], 0)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void SearchCodes_OnEmptyIndex_ReturnsOnlyMissing()
    {
        var index = new BinaryFlatIndex(8);
        var ids = new long[2];
        var distances = new int[2];
        index.SearchCodes([0xFF], 2, ids, distances);
        ids.Should().Equal(-1L, -1L);
        distances.Should().Equal(-1, -1);
    }

    [Fact]
    public void RemoveFilterAndRangeSearch_WorkOnCodes()
    {
        var index = new BinaryFlatIndex(8);
        // Hamming from 0x00: 0, 1, 2, 3, 4 for ids 0..4.
        index.AddCodes([0x00, 0x01, 0x03, 0x07, 0x0F], [0, 1, 2, 3, 4]);
        index.Search(new float[8], 2, new SearchOptions { Filter = id => id % 2 == 1 }).Ids.Should().Equal(1L, 3L);

        RangeSearchResult range = index.RangeSearch(new float[8], 2.5f);
        range.IdsOf(0).ToArray().Should().Equal(0L, 1L, 2L);
        range.DistancesOf(0).ToArray().Should().Equal(0f, 1f, 2f);
        index.RangeSearch(new float[8], 2f).IdsOf(0).ToArray().Should().Equal([0L, 1L], "the radius is exclusive");
        index.RangeSearch(new float[8], 100f, new SearchOptions { Filter = id => id > 2 }).IdsOf(0).ToArray().Should().Equal(3L, 4L);

        index.Remove([0, 2, 0]).Should().Be(2);
        index.Contains(2).Should().BeFalse();
        index.Search(new float[8], 4).Ids.Should().Equal(1L, 3L, 4L, -1L);
        FluentActions.Invoking(() => index.Remove([1, 99])).Should().Throw<KeyNotFoundException>().WithMessage("*99*");
        index.Count.Should().Be(3);
        index.Add(new float[8]).Should().Be(5, "automatic ids continue past the largest ever used");
    }

    [Fact]
    public void MemoryUsage_IsCodeSizePlusIdAndMapPerVector()
    {
        var index = new BinaryFlatIndex(256);
        index.AddCodes(RandomCodes(1000, 32, 5), Enumerable.Range(0, 1000).Select(i => (long)i).ToArray());
        index.CodeSize.Should().Be(32);
        ((double)index.MemoryUsageBytes / index.Count).Should().BeApproximately(32 + 8 + 24, 0.5);
    }

    [Fact]
    public void SaveAndLoad_RoundTrips()
    {
        var index = new BinaryFlatIndex(64);
        index.AddCodes(RandomCodes(300, 8, 6), Enumerable.Range(0, 300).Select(i => (long)i * 2).ToArray());
        index.Remove([4, 100]);
        var stream = new MemoryStream();
        index.Save(stream);
        stream.Position = 0;

        var loaded = (BinaryFlatIndex)IndexFile.Load(stream);

        loaded.Count.Should().Be(298);
        loaded.NextId.Should().Be(599);
        loaded.Contains(100).Should().BeFalse();
        float[] queries = TestData.Gaussian(5, 64, 7);
        SearchResult before = index.Search(queries, 8), after = loaded.Search(queries, 8);
        after.Ids.Should().Equal(before.Ids);
        after.Distances.Should().Equal(before.Distances);
    }

    private static BinaryFlatIndex ReadPayloadOf(byte[] file, Action<byte[]> corrupt)
    {
        const int header = 4 + 4 + 1 + 5, trailer = 16;
        byte[] payload = file[header..^trailer];
        corrupt(payload);
        return BinaryFlatIndex.ReadPayload(new IndexPayloadReader(new MemoryStream(payload), payload.Length, "BFlat"));
    }

    [Fact]
    public void Load_RejectsCorruptFiles()
    {
        var index = new BinaryFlatIndex(8);
        index.AddCodes([0x01, 0x02], [3, 8]);
        var stream = new MemoryStream();
        index.Save(stream);
        byte[] file = stream.ToArray();
        // Payload: dimension (4), next id (8), count (8), ids (16), codes (2).
        const int nextIdAt = 4, countAt = 12, idsAt = 20;
        ReadPayloadOf(file, _ => { }).Count.Should().Be(2);
        void Rejects(Action<byte[]> corrupt, string message) =>
            FluentActions.Invoking(() => ReadPayloadOf(file, corrupt)).Should().Throw<InvalidDataException>().WithMessage(message);
        Rejects(p => p[0] = 12, "*multiple of 8*");
        Rejects(p => BitConverter.GetBytes(8L).CopyTo(p, nextIdAt), "*id 8*not below the next id 8*");
        Rejects(p => BitConverter.GetBytes(3L).CopyTo(p, countAt), "*ids*");
        Rejects(p => BitConverter.GetBytes(3L).CopyTo(p, idsAt + 8), "*id 3 appears twice*");

        file[^20] ^= 0x40; // a flipped bit anywhere is caught by the checksum
        FluentActions.Invoking(() => IndexFile.Load(new MemoryStream(file))).Should().Throw<InvalidDataException>().WithMessage("*checksum*");
    }
}
