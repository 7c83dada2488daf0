using DeepRetrieval.Distances;
using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Binary;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Tests.Indexes;

/// <summary>
/// The binary contract (<see cref="IBinaryIndex"/>) on its flat index: codes in, whole-number Hamming distances out, exact
/// against a brute-force scan on both the AVX-512 kernels (64- and 256-bit codes) and the block scan (other sizes).
/// </summary>
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
        index.Add([0x00, 0x00, 0xFF, 0x00, 0x01, 0x80, 0x0F, 0xF0], [10, 11, 12, 13]);
        var ids = new long[5];
        var distances = new int[5];
        index.Search([0x00, 0x00], 5, ids, distances);
        ids.Should().Equal(10L, 12L, 11L, 13L, -1L);
        distances.Should().Equal(0, 2, 8, 8, -1);

        // 0x01,0x80 against each: 2, 8 (0xFE has 7 bits, 0x80 one), 0, 6 (0x0E and 0x70 have 3 each).
        index.Search([0x01, 0x80], 4, ids, distances);
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
        index.Reconstruct(7, code);
        code.Should().Equal((byte)0x89, (byte)0x81);
        FluentActions.Invoking(() => index.Reconstruct(8, code)).Should().Throw<KeyNotFoundException>();
    }

    [Fact]
    public void Search_OnFloats_ReportsHammingCountsOfTheSignCodes()
    {
        var index = new BinaryFlatIndex(8);
        index.Add([1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, -1f, 1f, 1f, 1f, -1f, 1f, 1f, 1f, -1f, -1f, -1f, -1f, -1f, -1f, -1f, -1f]);
        SearchResult result = index.Search([5f, 5f, 5f, 5f, 5f, 5f, 5f, 5f], 3);
        result.Ids.Should().Equal(0L, 1L, 2L);
        result.Distances.Should().Equal(0f, 2f, 8f);
        index.Metric.Should().Be(Metric.Hamming);
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
        index.Add(codes, stored);
        var ids = new long[nq * k];
        var distances = new int[nq * k];
        index.Search(queries, k, ids, distances, new SearchOptions { MaxDegreeOfParallelism = threads });
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
        FluentActions.Invoking(() => index.Add([1, 2, 3], [0])).Should().Throw<ArgumentException>().WithMessage("*code length*");
        FluentActions.Invoking(() => index.Add([1, 2], [-1])).Should().Throw<ArgumentException>().WithMessage("*non-negative*");
        FluentActions.Invoking(() => index.Add([1, 2, 3, 4], [5, 5])).Should().Throw<ArgumentException>().WithMessage("*twice*");
        index.Count.Should().Be(0);
        FluentActions.Invoking(() => index.Search([1, 2, 3], 1, new long[2], new int[2])).Should().Throw<ArgumentException>().WithMessage("*code length*");
        FluentActions.Invoking(() => index.Search([1, 2], 0, new long[2], new int[2])).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => index.Search([1, 2], 3, new long[2], new int[2])).Should().Throw<ArgumentException>().WithMessage("*queryCount × k = 3*");
        var nan = new float[16];
        nan[3] = float.NaN;
        FluentActions.Invoking(() => index.Add(nan)).Should().Throw<ArgumentException>().WithMessage("*NaN*");
        FluentActions.Invoking(() => index.Add(new float[15])).Should().Throw<ArgumentException>().WithMessage("*dimension 16*");
        FluentActions.Invoking(() => index.Search(new float[16], 0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => index.Add([1, 2], [long.MaxValue])).Should().Throw<ArgumentException>().WithMessage("*reserved*");
        FluentActions.Invoking(() => index.Add([1, 2, 3])).Should().Throw<ArgumentException>().WithMessage("*whole codes of 2 bytes*");
        FluentActions.Invoking(() => index.Add(new byte[3], 4L)).Should().Throw<ArgumentException>().WithMessage("*one code of 2 bytes*");
        FluentActions.Invoking(() => index.RangeSearch([1, 2], -1)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => index.Reconstruct(0, new byte[3])).Should().Throw<ArgumentException>().WithMessage("*2 bytes*");
        FluentActions.Invoking(() => index.Reconstruct(0, new float[16])).Should().Throw<NotSupportedException>("sign bits cannot give the floats back");
        index.Reconstruction.Should().Be(ReconstructionKind.None);
        index.Count.Should().Be(0);
    }

    [Theory]
    [InlineData(64)]
    [InlineData(256)]
    [InlineData(128)]
    public void RemoveThenSearch_MatchesBruteForce_WithIdsOutOfRowOrder(int bits)
    {
        int codeSize = bits / 8;
        const int n = 5000, nq = 5, k = 7;
        byte[] codes = RandomCodes(n, codeSize, bits + 10);
        // Many exact duplicates, so ties (broken by ascending id) are common.
        for (int i = 0; i < n; i += 7) codes.AsSpan(0, codeSize).CopyTo(codes.AsSpan(i * codeSize, codeSize));
        var index = new BinaryFlatIndex(bits);
        long[] ids = Enumerable.Range(0, n).Select(i => (long)((i * 7919) % n)).ToArray();
        index.Add(codes, ids);
        long[] removed = ids.Where(id => id % 5 == 0).ToArray();
        index.Remove(removed);
        byte[] queries = RandomCodes(nq, codeSize, bits + 11);
        codes.AsSpan(0, codeSize).CopyTo(queries); // a query with many distance-0 matches
        BinarySearchResult found = index.Search(queries, k, new SearchOptions { MaxDegreeOfParallelism = 1 });
        for (int q = 0; q < nq; q++)
        {
            var expected = Enumerable.Range(0, n).Where(i => ids[i] % 5 != 0)
                .Select(i => (Distance: ScalarDistance.Hamming(queries.AsSpan(q * codeSize, codeSize), codes.AsSpan(i * codeSize, codeSize)), Id: ids[i]))
                .OrderBy(p => p.Distance).ThenBy(p => p.Id).Take(k).ToArray();
            found.IdsOf(q).ToArray().Should().Equal(expected.Select(p => p.Id));
            found.DistancesOf(q).ToArray().Should().Equal(expected.Select(p => p.Distance));
        }
        var even = index.Search(queries, k, new SearchOptions { Filter = id => id % 2 == 0 });
        even.Ids.Should().OnlyContain(id => id % 2 == 0);
    }

    [Fact]
    public void RangeSearchOnCodes_ReturnsExactlyTheCodesBelowTheRadius_ClosestFirst()
    {
        const int n = 3000, codeSize = 8;
        byte[] codes = RandomCodes(n, codeSize, 21);
        byte[] queries = RandomCodes(4, codeSize, 22);
        var index = new BinaryFlatIndex(64);
        index.Add(codes);
        BinaryRangeSearchResult range = index.RangeSearch(queries, 24, new SearchOptions { MaxDegreeOfParallelism = 2 });
        range.QueryCount.Should().Be(4);
        for (int q = 0; q < 4; q++)
        {
            var expected = Enumerable.Range(0, n)
                .Select(i => (Distance: ScalarDistance.Hamming(queries.AsSpan(q * codeSize, codeSize), codes.AsSpan(i * codeSize, codeSize)), Id: (long)i))
                .Where(p => p.Distance < 24).OrderBy(p => p.Distance).ThenBy(p => p.Id).ToArray();
            expected.Should().NotBeEmpty();
            range.IdsOf(q).ToArray().Should().Equal(expected.Select(p => p.Id));
            range.DistancesOf(q).ToArray().Should().Equal(expected.Select(p => p.Distance));
        }
        index.RangeSearch(queries, 0).Ids.Should().BeEmpty("the radius is exclusive");
    }

    [Fact]
    public void Factory_CreateBinary_BuildsTheFlatBinaryIndex_AndRejectsOtherKinds()
    {
        IBinaryIndex index = IndexFactory.CreateBinary(64, "BFlat");
        index.Should().BeOfType<BinaryFlatIndex>();
        index.Bits.Should().Be(64);
        index.CodeSize.Should().Be(8);
        index.Kind.Should().Be(IndexKinds.BinaryFlat);
        FluentActions.Invoking(() => IndexFactory.CreateBinary(64, "Flat")).Should().Throw<ArgumentException>().WithMessage("*\"Flat\" compares float vectors*");
        FluentActions.Invoking(() => IndexFactory.CreateBinary(64, "LSH64")).Should().Throw<ArgumentException>().WithMessage("*builds a LSH index, which does not store binary codes*");
        FluentActions.Invoking(() => IndexFactory.CreateBinary(63, "BFlat")).Should().Throw<ArgumentException>().WithMessage("*multiple of 8*");
        FluentActions.Invoking(() => IndexFactory.CreateBinary(64, "BFlat,RFlat")).Should().Throw<ArgumentException>().WithMessage("*token 2*");
        FluentActions.Invoking(() => IndexFactory.CreateBinary(64, "PCA16,BFlat")).Should().Throw<ArgumentException>().WithMessage("*token 1*");
    }

    [Fact]
    public async Task SaveAndLoadBinary_SyncAndAsync_GiveTheSameCodes_AndFloatFilesAreRefused()
    {
        IBinaryIndex index = IndexFactory.CreateBinary(256, "BFlat");
        long first = index.Add(RandomCodes(400, 32, 31));
        first.Should().Be(0);
        index.Add(RandomCodes(1, 32, 32), 1000L);
        index.Remove([3]);
        byte[] queries = RandomCodes(3, 32, 33);
        BinarySearchResult expected = index.Search(queries, 5);
        using var stream = new MemoryStream();
        index.Save(stream);
        stream.Position = 0;
        IBinaryIndex loaded = IndexFile.LoadBinary(stream);
        stream.Position = 0;
        IBinaryIndex loadedAsync = await IndexFile.LoadBinaryAsync(stream);
        foreach (IBinaryIndex copy in new[] { loaded, loadedAsync })
        {
            copy.Count.Should().Be(400);
            copy.GetIds().Should().BeEquivalentTo(index.GetIds());
            copy.Search(queries, 5).Ids.Should().Equal(expected.Ids);
            copy.Search(queries, 5).Distances.Should().Equal(expected.Distances);
            copy.Reconstruct(1000).Should().Equal(RandomCodes(1, 32, 32));
            copy.Add(RandomCodes(1, 32, 34)).Should().Be(1001);
        }

        var flat = new FlatIndex(4);
        using var floats = new MemoryStream();
        flat.Save(floats);
        floats.Position = 0;
        FluentActions.Invoking(() => IndexFile.LoadBinary(floats)).Should().Throw<InvalidDataException>().WithMessage("*Flat index*not a binary-code index*IndexFile.Load*");
    }

    [Fact]
    public void OneQueryOnOneThread_ReconstructAndContains_AllocateNothing()
    {
        foreach (int bits in new[] { 64, 256, 96 })
        {
            var index = new BinaryFlatIndex(bits);
            index.Add(RandomCodes(2000, bits / 8, bits));
            byte[] query = RandomCodes(1, bits / 8, 1);
            var ids = new long[10];
            var distances = new int[10];
            var code = new byte[bits / 8];
            var options = new SearchOptions { MaxDegreeOfParallelism = 1 };
            for (int warm = 0; warm < 50; warm++)
            {
                index.Search(query, 10, ids, distances, options);
                index.Reconstruct(warm, code);
            }
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++)
            {
                index.Search(query, 10, ids, distances, options);
                index.Reconstruct(i, code);
                index.Contains(i);
            }
            (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0, $"{bits}-bit codes");
        }
    }

    [Fact]
    public void SearchCodes_OnEmptyIndex_ReturnsOnlyMissing()
    {
        var index = new BinaryFlatIndex(8);
        var ids = new long[2];
        var distances = new int[2];
        index.Search([0xFF], 2, ids, distances);
        ids.Should().Equal(-1L, -1L);
        distances.Should().Equal(-1, -1);
    }

    [Fact]
    public void RemoveFilterAndRangeSearch_WorkOnCodes()
    {
        var index = new BinaryFlatIndex(8);
        // Hamming from 0x00: 0, 1, 2, 3, 4 for ids 0..4.
        index.Add([0x00, 0x01, 0x03, 0x07, 0x0F], [0, 1, 2, 3, 4]);
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
        index.Add(RandomCodes(1000, 32, 5), Enumerable.Range(0, 1000).Select(i => (long)i).ToArray());
        index.CodeSize.Should().Be(32);
        ((double)index.MemoryUsageBytes / index.Count).Should().BeApproximately(32 + 8 + 24, 0.5);
    }

    [Fact]
    public void SaveAndLoad_RoundTrips()
    {
        var index = new BinaryFlatIndex(64);
        index.Add(RandomCodes(300, 8, 6), Enumerable.Range(0, 300).Select(i => (long)i * 2).ToArray());
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
        index.Add([0x01, 0x02], [3, 8]);
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
