using System.Buffers.Binary;
using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Hnsw;
using DeepRetrieval.Indexes.Ivf;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Tests.Persistence;

/// <summary>
/// Indexes opened with <see cref="IndexFile.Map"/>: they answer exactly what the loaded index answers (ids and distances
/// bit for bit), refuse writes, own and release their mapping, and fail on hostile files with
/// <see cref="InvalidDataException"/> or, for HNSW neighbour ids, by skipping what lies outside the graph.
/// </summary>
public sealed class MappedIndexTests : IDisposable
{
    private const int D = 16, Rows = 800, QueryCount = 40, K = 10;
    private static readonly float[] Data = TestData.Clustered(Rows, D, 12, 5);
    private static readonly float[] Queries = TestData.Clustered(QueryCount, D, 12, 6);
    private readonly string _folder = Directory.CreateTempSubdirectory("mapped-index-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Saved(string factory, Metric metric = Metric.L2, bool removeSome = false)
    {
        IVectorIndex index = IndexFactory.Create(D, factory, metric);
        if (!index.IsTrained) index.Train(Data);
        index.Add(Data);
        if (removeSome) index.Remove([3L, 50L, 51L, 700L]);
        string path = Path.Combine(_folder, $"{factory.Replace(',', '-')}-{metric}.dri");
        IndexFile.Save(index, path);
        return path;
    }

    [Theory]
    [InlineData("Flat", Metric.L2)]
    [InlineData("Flat", Metric.Cosine)]
    [InlineData("Flat", Metric.InnerProduct)]
    [InlineData("HNSW8", Metric.L2)]
    [InlineData("HNSW8", Metric.Cosine)]
    [InlineData("HNSW8,SQ8", Metric.L2)]
    [InlineData("HNSW8,SQ4", Metric.InnerProduct)]
    [InlineData("HNSW8,PQ4", Metric.L2)]
    [InlineData("IVF8,Flat", Metric.L2)]
    [InlineData("IVF8,SQ8", Metric.Cosine)]
    [InlineData("IVF8,PQ4", Metric.L2)]
    [InlineData("IVF8_HNSW4,Flat", Metric.L2)]
    [InlineData("PCA8,HNSW8", Metric.L2)]
    [InlineData("IVF8,PQ4,RFlat", Metric.L2)]
    public void MappedSearch_EqualsLoadedSearch_BitForBit(string factory, Metric metric)
    {
        string path = Saved(factory, metric, removeSome: true);
        IVectorIndex loaded = IndexFile.Load(path);
        using VectorIndex mapped = IndexFile.Map(path);
        mapped.Mapping.Should().NotBeNull("{0} maps its large arrays", factory);
        foreach (var (name, value) in new[] { ("ef", 24.0), ("nprobe", 3.0) })
        {
            try
            {
                loaded.SetSearchParameter(name, value);
                mapped.SetSearchParameter(name, value);
            }
            catch (ArgumentException)
            {
                // Not every kind has the parameter; both sides stay equal either way.
            }
        }

        mapped.Count.Should().Be(loaded.Count);
        AssertSameResults(loaded.Search(Queries, K), mapped.Search(Queries, K));
        // One query at a time takes the allocation-free paths.
        for (int q = 0; q < 3; q++)
            AssertSameResults(loaded.Search(Queries.AsSpan(q * D, D), K), mapped.Search(Queries.AsSpan(q * D, D), K));
        var filter = new SearchOptions { Filter = id => id % 3 != 0 };
        AssertSameResults(loaded.Search(Queries, K, filter), mapped.Search(Queries, K, filter));

        mapped.GetIds().Should().Equal(loaded.GetIds());
        foreach (long id in new long[] { 0, 3, 51, 400, 799 })
        {
            mapped.Contains(id).Should().Be(loaded.Contains(id), "id {0}", id);
            if (!loaded.Contains(id)) continue;
            float[] expected = new float[D], actual = new float[D];
            loaded.Reconstruct(id, expected);
            mapped.Reconstruct(id, actual);
            actual.Should().Equal(expected);
        }
    }

    private static void AssertSameResults(SearchResult expected, SearchResult actual)
    {
        actual.Ids.ToArray().Should().Equal(expected.Ids.ToArray());
        // Bit-exact: the same kernels over the same bytes.
        actual.Distances.ToArray().Select(BitConverter.SingleToInt32Bits).Should().Equal(expected.Distances.ToArray().Select(BitConverter.SingleToInt32Bits));
    }

    [Theory]
    [InlineData("Flat")]
    [InlineData("HNSW8,SQ8")]
    [InlineData("IVF8,PQ4")]
    public void SavingAMappedIndex_WritesTheSameFile(string factory)
    {
        string path = Saved(factory);
        using VectorIndex mapped = IndexFile.Map(path);
        using var copy = new MemoryStream();
        mapped.Save(copy);
        copy.ToArray().Should().Equal(File.ReadAllBytes(path));
    }

    [Fact]
    public void RangeSearch_OnAMappedIndex_EqualsTheLoadedIndex()
    {
        string path = Saved("IVF8,SQ8");
        IVectorIndex loaded = IndexFile.Load(path);
        using VectorIndex mapped = IndexFile.Map(path);
        loaded.SetSearchParameter("nprobe", 8);
        mapped.SetSearchParameter("nprobe", 8);
        RangeSearchResult expected = loaded.RangeSearch(Queries, 4f), actual = mapped.RangeSearch(Queries, 4f);
        actual.Ids.ToArray().Should().Equal(expected.Ids.ToArray());
        actual.Distances.ToArray().Should().Equal(expected.Distances.ToArray());
    }

    [Theory]
    [InlineData("Flat")]
    [InlineData("HNSW8")]
    [InlineData("IVF8,Flat")]
    public void MappedIndex_IsReadOnly(string factory)
    {
        using VectorIndex mapped = IndexFile.Map(Saved(factory));
        FluentActions.Invoking(() => mapped.Add(Data.AsSpan(0, D))).Should().Throw<NotSupportedException>().WithMessage("*mapped read-only*IndexFile.Load*");
        FluentActions.Invoking(() => mapped.Add(Data.AsSpan(0, D), [5000L])).Should().Throw<NotSupportedException>();
        FluentActions.Invoking(() => mapped.Remove([1L])).Should().Throw<NotSupportedException>();
        FluentActions.Invoking(() => mapped.Train(Data)).Should().Throw<NotSupportedException>();
        if (mapped is HnswIndex graph)
        {
            FluentActions.Invoking(graph.RepairConnectivity).Should().Throw<NotSupportedException>();
            graph.CountUnreachable().Should().Be(0);
        }
        mapped.Count.Should().Be(Rows);
    }

    [Fact]
    public void KindsThatCannotMap_AndVersion1Files_LoadFully()
    {
        using VectorIndex codes = IndexFile.Map(Saved("SQ8"));
        codes.Mapping.Should().BeNull();
        codes.Add(Data.AsSpan(0, D)); // an ordinary, writable index
        using VectorIndex legacy = IndexFile.Map(LegacyFile("hnsw"));
        legacy.Mapping.Should().BeNull();
        legacy.Should().BeOfType<HnswIndex>();
        legacy.Count.Should().Be(IndexFile.Load(LegacyFile("hnsw")).Count);
        legacy.Search(Queries, K).Ids.Should().Equal(IndexFile.Load(LegacyFile("hnsw")).Search(Queries, K).Ids);
    }

    // The version 1 fixtures live beside the legacy-file tests.
    private static string LegacyFile(string name, [System.Runtime.CompilerServices.CallerFilePath] string sourceFile = "") =>
        Path.Combine(Path.GetDirectoryName(sourceFile)!, "..", "Indexes", "Reference", "legacy-v1", name + ".dri");

    [Fact]
    public void Dispose_ReleasesTheFile_AndLaterCallsThrow()
    {
        string path = Saved("HNSW8");
        VectorIndex mapped = IndexFile.Map(path);
        IndexMapping mapping = mapped.Mapping!;
        mapped.Dispose();
        mapping.IsDisposed.Should().BeTrue();
        FluentActions.Invoking(() => mapped.Search(Queries, K)).Should().Throw<ObjectDisposedException>();
        FluentActions.Invoking(mapping.VerifyChecksum).Should().Throw<ObjectDisposedException>();
        mapped.Dispose(); // twice is harmless
        // The file can be replaced and deleted.
        IndexFile.Save(IndexFactory.Create(D, "Flat"), path);
        File.Delete(path);
        File.Exists(path).Should().BeFalse();
    }

    [Fact]
    public void ANestedPart_DoesNotUnmapItsOwner()
    {
        using var mapped = (IvfIndex)IndexFile.Map(Saved("IVF8_HNSW4,Flat"));
        var quantizer = (VectorIndex)mapped.CoarseQuantizer;
        quantizer.Mapping.Should().BeSameAs(mapped.Mapping);
        quantizer.Dispose();
        mapped.Search(Queries, K).Ids.ToArray().Should().NotContain(-1);
    }

    [Fact]
    public void TruncatedOrForeignFiles_AreRejected()
    {
        byte[] bytes = File.ReadAllBytes(Saved("HNSW8"));
        string damaged = Path.Combine(_folder, "damaged.dri");
        foreach (int length in new[] { 0, 10, bytes.Length / 2, bytes.Length - 1 })
        {
            File.WriteAllBytes(damaged, bytes.AsSpan(0, length).ToArray());
            FluentActions.Invoking(() => IndexFile.Map(damaged)).Should().Throw<InvalidDataException>().WithMessage($"*{damaged}*");
        }
        File.WriteAllBytes(damaged, "PK\u0003\u0004 this is a zip, not an index file at all"u8.ToArray());
        FluentActions.Invoking(() => IndexFile.Map(damaged)).Should().Throw<InvalidDataException>().WithMessage("*magic*");
    }

    [Fact]
    public void ANodeCountPastTheFile_IsRejectedBeforeAnythingIsMapped()
    {
        byte[] bytes = File.ReadAllBytes(Saved("HNSW8"));
        // Header: "DRIX", version, kind length, "HNSW"; then dimension, metric, M, efConstruction, efSearch, seed, next id.
        int countAt = 4 + 4 + 1 + 4 + 6 * sizeof(int) + sizeof(long);
        BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(countAt)).Should().Be(Rows);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(countAt), 1_000_000);
        string damaged = Path.Combine(_folder, "count.dri");
        File.WriteAllBytes(damaged, bytes);
        FluentActions.Invoking(() => IndexFile.Map(damaged)).Should().Throw<InvalidDataException>();
    }

    [Fact]
    public void HostileLayer0Links_AreSkippedBySearch_AndCaughtByVerifyChecksum()
    {
        string path = Saved("HNSW8");
        byte[] bytes = File.ReadAllBytes(path);
        // Locate layer 0 as the reader does: ids, levels and deleted flags, then the aligned rows, then the aligned links.
        int at = 4 + 4 + 1 + 4 + 6 * sizeof(int) + sizeof(long) + sizeof(int) + sizeof(long);
        at += Rows * (sizeof(long) + 2);
        at = Align(at) + Rows * D * sizeof(float);
        at = Align(at);
        int stride = 2 * 8 + 1;
        for (int node = 0; node < Rows; node++)
        {
            Span<byte> list = bytes.AsSpan(at + node * stride * sizeof(int), stride * sizeof(int));
            int links = BinaryPrimitives.ReadInt32LittleEndian(list);
            links.Should().BeInRange(1, 16);
            // Every other neighbour points far outside the graph (and the mapping), the count past the list's end.
            for (int j = 1; j <= links; j += 2) BinaryPrimitives.WriteInt32LittleEndian(list[(j * sizeof(int))..], j % 4 == 1 ? int.MaxValue : -5);
            if (node % 7 == 0) BinaryPrimitives.WriteInt32LittleEndian(list, int.MaxValue);
        }
        File.WriteAllBytes(path, bytes);

        FluentActions.Invoking(() => IndexFile.Load(path)).Should().Throw<InvalidDataException>().WithMessage("*checksum*");
        FluentActions.Invoking(() => IndexFile.Map(path, verifyChecksum: true)).Should().Throw<InvalidDataException>().WithMessage("*checksum*");
        using VectorIndex mapped = IndexFile.Map(path);
        SearchResult result = mapped.Search(Queries, K);
        result.Ids.ToArray().Should().OnlyContain(id => id >= -1 && id < Rows);
        FluentActions.Invoking(mapped.Mapping!.VerifyChecksum).Should().Throw<InvalidDataException>().WithMessage("*checksum*");
    }

    // One padding-length byte, then zeros up to the next multiple of the alignment.
    [Theory]
    [InlineData("Flat")]
    [InlineData("HNSW8")]
    [InlineData("HNSW8,SQ8")]
    [InlineData("IVF8,PQ4")]
    [InlineData("IVF8_HNSW4,SQ8")]
    public void RandomlyDamagedFiles_MapAndSearch_OrFailWithInvalidData(string factory)
    {
        // A small in-test fuzzer: the checksum is not verified at open, so every damage reaches the mapped reader and the
        // searches behind it. Anything but InvalidDataException (or a crash of the test host) is a bug.
        byte[] original = File.ReadAllBytes(Saved(factory));
        string damaged = Path.Combine(_folder, "fuzzed.dri");
        var random = new Random(17);
        int[] interesting = [0, 1, -1, 2, 7, 64, 255, 799, 800, 801, 1 << 16, int.MaxValue, int.MinValue];
        int opened = 0;
        for (int round = 0; round < 150; round++)
        {
            byte[] bytes = (byte[])original.Clone();
            for (int change = random.Next(1, 4); change > 0; change--)
            {
                int at = random.Next(9, bytes.Length - 16); // past the magic and version, before the trailer
                if (random.Next(2) == 0) bytes[at] = (byte)random.Next(256);
                else if (at + 4 <= bytes.Length - 16) BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at), interesting[random.Next(interesting.Length)]);
            }
            File.WriteAllBytes(damaged, bytes);
            try
            {
                using VectorIndex mapped = IndexFile.Map(damaged);
                opened++;
                mapped.Search(Queries.AsSpan(0, 5 * D), K);
                mapped.Search(Queries.AsSpan(0, D), K, new SearchOptions { Filter = id => id % 2 == 0 });
                long[] ids = mapped.GetIds();
                foreach (long id in ids.Take(5))
                {
                    if (mapped.Contains(id)) mapped.Reconstruct(id, new float[D]);
                }
            }
            catch (InvalidDataException)
            {
                // The documented answer to a damaged file.
            }
        }
        opened.Should().BeGreaterThan(10, "most single-byte damages land in vectors, codes or links, which open");
    }

    private static int Align(int offset) => (offset + 1 + IndexFileFormat.ArrayAlignment - 1) / IndexFileFormat.ArrayAlignment * IndexFileFormat.ArrayAlignment;

    [Fact]
    public async Task ConcurrentSearches_SurviveADispose()
    {
        VectorIndex mapped = IndexFile.Map(Saved("HNSW8"));
        var searches = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            try
            {
                for (int i = 0; i < 200; i++) mapped.Search(Queries, K);
            }
            catch (ObjectDisposedException)
            {
                // Expected once the index is disposed; anything else (an access violation) would kill the test run.
            }
        })).ToArray();
        await Task.Delay(20);
        mapped.Dispose();
        await Task.WhenAll(searches);
        mapped.Mapping!.IsDisposed.Should().BeTrue();
    }
}
