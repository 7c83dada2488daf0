using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Hnsw;
using DeepRetrieval.Indexes.Ivf;
using DeepRetrieval.Persistence;
using DeepRetrieval.Quantization;

namespace DeepRetrieval.Tests.Indexes;

public class IvfIndexTests
{
    private const int D = 32;
    private const int Lists = 64;

    // 5,000 indexed points and 200 held-out queries from the same 50 clusters.
    private static readonly float[] All = TestData.Clustered(5200, D, 50, 31);
    private static readonly float[] Data = All[..(5000 * D)];
    private static readonly float[] Queries = All[(5000 * D)..];

    private static IvfIndex Build(IvfEncoding encoding, Metric metric = Metric.L2, IVectorIndex? coarse = null, int lists = Lists)
    {
        var index = new IvfIndex(D, lists, metric, encoding, coarse);
        index.Train(Data);
        index.Add(Data);
        return index;
    }

    [Theory]
    [InlineData(IvfIndex.PlusPlusSeedingMaxLists, DeepRetrieval.Clustering.KMeansInit.KMeansPlusPlus)]
    [InlineData(IvfIndex.PlusPlusSeedingMaxLists + 1, DeepRetrieval.Clustering.KMeansInit.Random)]
    public void Train_SeedsWithKMeansPlusPlusUpToTheLimitAndRandomlyAbove(int lists, DeepRetrieval.Clustering.KMeansInit expected)
    {
        const int d = 2, rows = 9000;
        float[] data = TestData.Gaussian(rows, d, 3);
        var index = new IvfIndex(d, lists, Metric.L2, IvfEncoding.Flat) { TrainingIterations = 1, Seed = 5 };
        index.Train(data);
        float[] centroids = new DeepRetrieval.Clustering.KMeans(new DeepRetrieval.Clustering.KMeansOptions { K = lists, Iterations = 1, Seed = 5, Init = expected })
            .Train(data, d).Centroids;

        var centroid = new float[d];
        foreach (int list in new[] { 0, 1, lists / 2, lists - 1 })
        {
            index.CoarseQuantizer.Reconstruct(list, centroid);
            centroid.Should().Equal(centroids.AsSpan(list * d, d).ToArray(), "list {0} has the {1} centroid", list, expected);
        }
    }

    private static SearchResult Exact(Metric metric, int k, float[]? queries = null, Func<long, bool>? filter = null)
    {
        var flat = new FlatIndex(D, metric);
        flat.Add(Data);
        return flat.Search(queries ?? Queries, k, new SearchOptions { Filter = filter });
    }

    private static double Recall(SearchResult found, SearchResult truth)
    {
        int hits = 0;
        for (int q = 0; q < truth.QueryCount; q++)
        {
            var expected = new HashSet<long>(truth.IdsOf(q).ToArray());
            foreach (long id in found.IdsOf(q)) if (expected.Contains(id)) hits++;
        }
        return (double)hits / truth.Ids.Length;
    }

    [Fact]
    public void Search_FindsOnlyTheProbedCell_WithExactDistances()
    {
        // Two obvious cells worked out by hand: four points around (0, 0) and four around (10, 10).
        float[] data = [0, 0, 1, 0, 0, 1, 1, 1, 10, 10, 11, 10, 10, 11, 11, 11];
        var index = new IvfIndex(2, 2, Metric.L2, IvfEncoding.Flat);
        index.Train(data);
        index.Add(data);
        index.ListLength(0).Should().Be(4);
        index.ListLength(1).Should().Be(4);

        SearchResult result = index.Search([9f, 9f], 6);
        result.Ids.Should().Equal(4, 5, 6, 7, -1, -1); // nprobe 1: the near cell only, so the tail is missing
        result.Distances.Take(4).Should().Equal(2f, 5f, 5f, 8f);

        index.Search([9f, 9f], 6, new IvfSearchOptions { Nprobe = 2 }).Ids.Should().Equal(4, 5, 6, 7, 3, 1);
    }

    [Theory]
    [InlineData(Metric.L2)]
    [InlineData(Metric.InnerProduct)]
    [InlineData(Metric.Cosine)]
    public void Search_ProbingEveryList_GivesExactResults_ForFlat(Metric metric)
    {
        IvfIndex index = Build(IvfEncoding.Flat, metric);
        index.SetSearchParameter("nprobe", Lists);
        SearchResult truth = Exact(metric, 10);
        SearchResult found = index.Search(Queries, 10);
        found.Ids.Should().Equal(truth.Ids);
        found.Distances.Should().BeEquivalentTo(truth.Distances, o => o.Using<float>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-3f * Math.Max(1f, Math.Abs(c.Expectation)))).WhenTypeIs<float>());
    }

    // Measured on this data (10-recall@10): Flat 1.0, SQ8 0.982, SQ4 0.826, fp16 0.9995 at nprobe 4 of 64 lists; Flat at
    // nprobe 1 0.913, since 64 cells cut 50 clusters and a query's neighbours sometimes straddle two cells.
    [Theory]
    [InlineData("Flat", 1, 0.85)]
    [InlineData("Flat", 4, 0.99)]
    [InlineData("SQ8", 4, 0.96)]
    [InlineData("SQ4", 4, 0.78)]
    [InlineData("SQfp16", 4, 0.99)]
    public void Recall_AgainstExactSearch(string encoding, int nprobe, double minimumRecall)
    {
        IvfIndex index = Build(IvfEncoding.Parse(encoding));
        double recall = Recall(index.Search(Queries, 10, new IvfSearchOptions { Nprobe = nprobe }), Exact(Metric.L2, 10));
        recall.Should().BeGreaterThanOrEqualTo(minimumRecall);
    }

    // Measured at nprobe 4: PQ8 0.74, PQ16 0.916, PQ16x4 0.68 (L2); PQ16 0.938 (inner product), 0.73 (cosine, whose
    // unit vectors leave tight clusters with many near-ties for 8-bit codes to order).
    [Theory]
    [InlineData("PQ8", Metric.L2, 0.68)]
    [InlineData("PQ16", Metric.L2, 0.87)]
    [InlineData("PQ16x4", Metric.L2, 0.62)]
    [InlineData("PQ16", Metric.InnerProduct, 0.88)]
    [InlineData("PQ16", Metric.Cosine, 0.67)]
    public void Recall_WithProductQuantizedResiduals(string encoding, Metric metric, double minimumRecall)
    {
        IvfIndex index = Build(IvfEncoding.Parse(encoding), metric);
        index.CodeSize.Should().Be(encoding.EndsWith("x4") ? 8 : int.Parse(encoding[2..]));
        double recall = Recall(index.Search(Queries, 10, new IvfSearchOptions { Nprobe = 4 }), Exact(metric, 10));
        recall.Should().BeGreaterThanOrEqualTo(minimumRecall);
    }

    [Fact]
    public void ProductQuantizer_PrecomputedTables_GiveTheResidualTableDistances()
    {
        IvfIndex index = Build(IvfEncoding.ProductQuantizer(8));
        var codec = (IvfProductCodec)index.Codec;
        codec.UsesPrecomputedTable.Should().BeTrue();
        SearchResult precomputed = index.Search(Queries, 10, new IvfSearchOptions { Nprobe = 4 });

        codec.PrecomputedLimitBytes = 0;
        codec.SetCentroids(index.Centroids, index.Lists);
        codec.UsesPrecomputedTable.Should().BeFalse();
        SearchResult direct = index.Search(Queries, 10, new IvfSearchOptions { Nprobe = 4 });

        // Same sums in a different order: equal up to float rounding, so the same neighbours bar near-ties.
        for (int i = 0; i < direct.Distances.Length; i++)
            precomputed.Distances[i].Should().BeApproximately(direct.Distances[i], 1e-3f * direct.Distances[i] + 1e-3f);
        Recall(precomputed, direct).Should().BeGreaterThan(0.98);
    }

    [Fact]
    public void Recall_WithAnHnswCoarseQuantizer_MatchesFlatQuantizer()
    {
        var coarse = new HnswIndex(D, Metric.L2, 16) { BuildThreads = 1 };
        IvfIndex index = Build(IvfEncoding.ScalarQuantizer(ScalarQuantizerType.SQ8), coarse: coarse);
        index.CoarseQuantizer.Should().BeSameAs(coarse);
        coarse.Count.Should().Be(Lists);
        double recall = Recall(index.Search(Queries, 10, new IvfSearchOptions { Nprobe = 4 }), Exact(Metric.L2, 10));
        recall.Should().BeGreaterThanOrEqualTo(0.96); // measured 0.982, as with the flat quantizer
    }

    [Fact]
    public void Recall_GrowsWithNprobe()
    {
        IvfIndex index = Build(IvfEncoding.Flat, lists: 128);
        SearchResult truth = Exact(Metric.L2, 10);
        double one = Recall(index.Search(Queries, 10, new IvfSearchOptions { Nprobe = 1 }), truth);
        double eight = Recall(index.Search(Queries, 10, new IvfSearchOptions { Nprobe = 8 }), truth);
        eight.Should().BeGreaterThan(one);
    }

    [Fact]
    public void Nprobe_FromParameterPropertyAndOptions_AgreeAndAboveListsClamps()
    {
        IvfIndex index = Build(IvfEncoding.Flat);
        SearchResult perCall = index.Search(Queries, 5, new IvfSearchOptions { Nprobe = 3 });
        index.SetSearchParameter("nprobe", 3);
        index.Nprobe.Should().Be(3);
        index.Search(Queries, 5).Ids.Should().Equal(perCall.Ids);

        SearchResult all = index.Search(Queries, 5, new IvfSearchOptions { Nprobe = Lists });
        index.Nprobe = 10 * Lists;
        index.Search(Queries, 5).Ids.Should().Equal(all.Ids);
    }

    [Fact]
    public void Nprobe_RejectsZeroNegativeAndFractions()
    {
        IvfIndex index = Build(IvfEncoding.Flat);
        FluentActions.Invoking(() => index.SetSearchParameter("nprobe", 0)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*nprobe*");
        FluentActions.Invoking(() => index.SetSearchParameter("nprobe", 2.5)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => index.Nprobe = -1).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*nprobe*");
        FluentActions.Invoking(() => index.Search(Queries, 5, new IvfSearchOptions { Nprobe = 0 })).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*nprobe*");
        FluentActions.Invoking(() => index.SetSearchParameter("ef", 10)).Should().Throw<ArgumentException>().WithMessage("*\"ef\"*");
    }

    [Theory]
    [InlineData("Flat", Metric.L2)]
    [InlineData("SQ8", Metric.InnerProduct)]
    [InlineData("PQ8", Metric.L2)]
    [InlineData("HNSW", Metric.L2)]
    public void Search_OneQueryAtATime_AllocatesNothingAfterWarmUp(string encoding, Metric metric)
    {
        IvfIndex index = encoding == "HNSW"
            ? Build(IvfEncoding.Flat, metric, new HnswIndex(D, metric, 8) { BuildThreads = 1 })
            : Build(IvfEncoding.Parse(encoding), metric);
        index.Nprobe = 8;
        var ids = new long[10];
        var distances = new float[10];
        var options = new SearchOptions { MaxDegreeOfParallelism = 1 };
        for (int q = 0; q < 200; q++) index.Search(Queries.AsSpan(q * D, D), 10, ids, distances, options);
        // Steady state: one of three passes must allocate nothing. A one-off runtime allocation on this thread
        // (seen about once in three full-suite runs, never when the class runs alone) must not fail the test,
        // while a per-query allocation shows in every pass.
        long fewest = long.MaxValue;
        for (int attempt = 0; attempt < 3 && fewest > 0; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int q = 0; q < 200; q++) index.Search(Queries.AsSpan(q * D, D), 10, ids, distances, options);
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        fewest.Should().Be(0);
    }

    [Theory]
    [InlineData(Metric.L2, 1)]
    [InlineData(Metric.InnerProduct, 2)]
    [InlineData(Metric.Cosine, 2)]
    public void Search_BatchMatchesSingleQueries(Metric metric, int threads)
    {
        IvfIndex index = Build(IvfEncoding.ScalarQuantizer(ScalarQuantizerType.SQ8), metric);
        index.Nprobe = 3;
        SearchResult batch = index.Search(Queries, 7, new SearchOptions { MaxDegreeOfParallelism = threads });
        for (int q = 0; q < 20; q++)
        {
            SearchResult single = index.Search(Queries.AsSpan(q * D, D), 7);
            single.Ids.Should().Equal(batch.IdsOf(q).ToArray());
            single.Distances.Should().Equal(batch.DistancesOf(q).ToArray());
        }
    }

    [Fact]
    public void SaveAndLoad_KeepTheHnswCoarseQuantizer()
    {
        IvfIndex index = Build(IvfEncoding.Flat, coarse: new HnswIndex(D, Metric.L2, 8) { BuildThreads = 1 });
        index.Nprobe = 4;
        var stream = new MemoryStream();
        index.Save(stream);
        stream.Position = 0;
        var loaded = (IvfIndex)IndexFile.Load(stream);
        loaded.CoarseQuantizer.Should().BeOfType<HnswIndex>();
        loaded.Search(Queries, 10).Ids.Should().Equal(index.Search(Queries, 10).Ids);
    }

    [Fact]
    public void Load_RejectsACorruptListSize()
    {
        float[] data = [0, 0, 1, 0, 10, 10, 11, 10];
        var index = new IvfIndex(2, 2, Metric.L2, IvfEncoding.Flat);
        index.Train(data);
        index.Add(data);
        var stream = new MemoryStream();
        index.Save(stream);
        byte[] bytes = stream.ToArray();
        // After the next id (4) come the list sizes (2 and 2), then every list's ids and every list's codes.
        byte[] sizes = [.. BitConverter.GetBytes(4L), .. BitConverter.GetBytes(2), .. BitConverter.GetBytes(2)];
        int sizeAt = bytes.AsSpan().LastIndexOf(sizes) + 8 + 4;
        BitConverter.ToInt32(bytes, sizeAt).Should().Be(2);
        BitConverter.GetBytes(1_000_000).CopyTo(bytes, sizeAt);
        Rehash(bytes);
        FluentActions.Invoking(() => IndexFile.Load(new MemoryStream(bytes))).Should().Throw<InvalidDataException>().WithMessage("*list ids*");
    }

    // Rewrites the trailer checksum so the payload's own validation, not the checksum, must catch the corruption.
    private static void Rehash(byte[] bytes)
    {
        var hash = new System.IO.Hashing.XxHash64();
        hash.Append(bytes.AsSpan(0, bytes.Length - 8));
        BitConverter.GetBytes(hash.GetCurrentHashAsUInt64()).CopyTo(bytes, bytes.Length - 8);
    }

    [Fact]
    public void Remove_ThenReAdd_RestoresTheResults()
    {
        IvfIndex index = Build(IvfEncoding.Flat);
        index.Nprobe = 4;
        SearchResult before = index.Search(Queries, 10);
        long[] removed = before.IdsOf(0).ToArray()[..5];

        index.Remove(removed).Should().Be(5);
        index.Count.Should().Be(5000 - 5);
        foreach (long id in removed) index.Contains(id).Should().BeFalse();
        index.Search(Queries, 10).Ids.Should().NotIntersectWith(removed);

        float[] vectors = removed.SelectMany(id => Data.AsSpan((int)id * D, D).ToArray()).ToArray();
        index.Add(vectors, removed);
        SearchResult after = index.Search(Queries, 10);
        after.Ids.Should().Equal(before.Ids);
        after.Distances.Should().Equal(before.Distances);
    }

    [Theory]
    [InlineData(Metric.L2, 60f)]
    [InlineData(Metric.InnerProduct, 600f)]
    public void RangeSearch_ProbingEveryList_MatchesExactRangeSearch(Metric metric, float radius)
    {
        IvfIndex index = Build(IvfEncoding.Flat, metric);
        index.Nprobe = Lists;
        var flat = new FlatIndex(D, metric);
        flat.Add(Data);
        float[] queries = Queries[..(20 * D)];
        RangeSearchResult expected = flat.RangeSearch(queries, radius);
        RangeSearchResult found = index.RangeSearch(queries, radius);
        expected.Ids.Length.Should().BeGreaterThan(20); // the radius catches something
        found.Offsets.Should().Equal(expected.Offsets);
        for (int q = 0; q < 20; q++)
            found.IdsOf(q).ToArray().Should().BeEquivalentTo(expected.IdsOf(q).ToArray());
    }

    [Fact]
    public void MemoryUsage_CountsCodesIdsAndCentroids()
    {
        IvfIndex flat = Build(IvfEncoding.Flat);
        IvfIndex sq8 = Build(IvfEncoding.ScalarQuantizer(ScalarQuantizerType.SQ8));
        sq8.CodeSize.Should().Be(D);
        flat.CodeSize.Should().Be(4 * D);
        flat.MemoryUsageBytes.Should().BeGreaterThan(5000L * (4 * D + 8) + Lists * D * 4);
        sq8.MemoryUsageBytes.Should().BeLessThan(flat.MemoryUsageBytes - 5000L * 2 * D); // 3D fewer bytes per code
    }

    [Fact]
    public void Untrained_RejectsAddsSearchesAndSaves()
    {
        var index = new IvfIndex(D, Lists, Metric.L2, IvfEncoding.Flat);
        index.IsTrained.Should().BeFalse();
        FluentActions.Invoking(() => index.Add(Data)).Should().Throw<InvalidOperationException>().WithMessage("*Train*");
        FluentActions.Invoking(() => index.Search(Queries.AsSpan(0, D), 3)).Should().Throw<InvalidOperationException>().WithMessage("*trained before it is searched*");
        FluentActions.Invoking(() => index.Save(new MemoryStream())).Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void Constructor_AndTraining_RejectWhatDoesNotFit()
    {
        FluentActions.Invoking(() => new IvfIndex(D, 0, Metric.L2, IvfEncoding.Flat)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new IvfIndex(D, 4, Metric.L2, IvfEncoding.Flat, new FlatIndex(D + 1)))
            .Should().Throw<ArgumentException>().WithMessage("*dimension*");
        FluentActions.Invoking(() => new IvfIndex(D, 4, Metric.L2, IvfEncoding.Flat, new FlatIndex(D, Metric.InnerProduct)))
            .Should().Throw<ArgumentException>().WithMessage("*metric*");
        var full = new FlatIndex(D);
        full.Add(Data.AsSpan(0, D));
        FluentActions.Invoking(() => new IvfIndex(D, 4, Metric.L2, IvfEncoding.Flat, full)).Should().Throw<ArgumentException>().WithMessage("*empty*");

        var index = new IvfIndex(D, Lists, Metric.L2, IvfEncoding.Flat);
        FluentActions.Invoking(() => index.Train(Data.AsSpan(0, 10 * D))).Should().Throw<ArgumentException>().WithMessage("*at least 64*");
    }

    [Theory]
    [InlineData("IVF16,Flat", "Flat", typeof(FlatIndex))]
    [InlineData("IVF16,SQ8", "SQ8", typeof(FlatIndex))]
    [InlineData("IVF16_HNSW32,SQfp16", "SQfp16", typeof(HnswIndex))]
    [InlineData("IVF16_HNSW32,PQ8x6", "PQ8x6", typeof(HnswIndex))]
    public void Factory_BuildsIvfIndexes(string description, string encoding, Type coarse)
    {
        var index = IndexFactory.Create(D, description, Metric.InnerProduct).Should().BeOfType<IvfIndex>().Subject;
        index.Lists.Should().Be(16);
        index.Encoding.ToString().Should().Be(encoding);
        index.CoarseQuantizer.Should().BeOfType(coarse);
        index.CoarseQuantizer.Metric.Should().Be(Metric.InnerProduct);
        index.Kind.Should().Be("IVF");
    }

    [Fact]
    public void Factory_BuildsAnIvfIndexAfterATransform()
    {
        var index = IndexFactory.Create(D, "PCA16,IVF8,PQ4x6").Should().BeOfType<TransformedIndex>().Subject;
        var ivf = index.Inner.Should().BeOfType<IvfIndex>().Subject;
        ivf.Dimension.Should().Be(16);
        ivf.Encoding.Should().Be(IvfEncoding.ProductQuantizer(4, 6));
        FluentActions.Invoking(() => IndexFactory.Create(D, "PCA16,IVF8")).Should().Throw<ArgumentException>().WithMessage("*token 2 \"IVF8\"*must be followed by a list encoding*");
    }

    [Theory]
    [InlineData("IVF", "list count")]
    [InlineData("IVF16", "must be followed by a list encoding")]
    [InlineData("IVF16,Flat,Flat", "token 3 \"Flat\" cannot follow")]
    [InlineData("IVF16,SQ7", "\"SQ7\"")]
    [InlineData("IVF16,PQ", "PQ needs")]
    [InlineData("IVF16,PQ8x3", "PQ needs")]
    [InlineData("IVF16_Flat,Flat", "coarse quantizer")]
    public void Factory_RejectsMalformedIvfDescriptions(string description, string expected)
    {
        FluentActions.Invoking(() => IndexFactory.Create(D, description)).Should().Throw<ArgumentException>().WithMessage($"*{expected}*");
    }

    [Theory]
    [InlineData("Flat")]
    [InlineData("SQ4")]
    [InlineData("PQ16")]
    [InlineData("PQ8x4")]
    public void Encoding_ParseAndToString_RoundTrip(string token)
    {
        IvfEncoding.Parse(token).ToString().Should().Be(token);
    }
}
