using System.Reflection;
using DeepRetrieval.Indexes;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Tests.Indexes;

/// <summary>
/// An application's own index kind, registered once, is built from a factory string (alone and inside the composite
/// grammar), saved with <see cref="IndexFile"/> and loaded again, like the library's kinds.
/// </summary>
public class IndexRegistryTests
{
    private const int D = 8;

    // Registration is global; the static constructor runs it once for every test of the class.
    static IndexRegistryTests() => IndexRegistry.Register(LinearScanIndex.Registration);

    [Fact]
    public void AUserKind_IsBuiltFromItsToken_AloneAndInsideTheGrammar()
    {
        IndexFactory.Create(D, "LinearScan").Should().BeOfType<LinearScanIndex>();
        IndexFactory.Create(D, "LinearScan", Metric.InnerProduct).Metric.Should().Be(Metric.InnerProduct);

        var composite = (RefineFlatIndex)IndexFactory.Create(D, "PCA4,LinearScan,RFlat");
        var transformed = (TransformedIndex)composite.BaseIndex;
        transformed.Inner.Should().BeOfType<LinearScanIndex>().Which.Dimension.Should().Be(4);

        FluentActions.Invoking(() => IndexFactory.Create(D, "LinearScanX")).Should().Throw<ArgumentException>()
            .WithMessage("*token 1 \"LinearScanX\" is not a known transform or index*LinearScan*");
    }

    [Fact]
    public void AUserKind_SearchesLikeFlat_AndRoundTripsThroughAnIndexFile()
    {
        float[] data = TestData.Gaussian(300, D, 1);
        float[] queries = TestData.Gaussian(10, D, 2);
        IVectorIndex index = IndexFactory.Create(D, "LinearScan");
        index.Add(data);
        var flat = new FlatIndex(D);
        flat.Add(data);
        index.Search(queries, 5).Ids.Should().Equal(flat.Search(queries, 5).Ids);

        string path = Path.Combine(Path.GetTempPath(), $"user-kind-{Guid.NewGuid():N}.drix");
        try
        {
            index.Save(path);
            IVectorIndex loaded = IndexFile.Load(path);
            loaded.Should().BeOfType<LinearScanIndex>();
            loaded.Kind.Should().Be(LinearScanIndex.KindName);
            loaded.Count.Should().Be(300);
            loaded.Search(queries, 5).Ids.Should().Equal(flat.Search(queries, 5).Ids);
            loaded.Reconstruct(17).Should().Equal(data.AsSpan(17 * D, D).ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AUserKind_NestedInsideLibraryComposites_LoadsBack()
    {
        float[] data = TestData.Gaussian(400, D, 3);
        IVectorIndex index = IndexFactory.Create(D, "PCA4,LinearScan,RFlat");
        index.Train(data);
        index.Add(data);
        using var stream = new MemoryStream();
        index.Save(stream);
        stream.Position = 0;
        var loaded = (RefineFlatIndex)IndexFile.Load(stream);
        ((TransformedIndex)loaded.BaseIndex).Inner.Should().BeOfType<LinearScanIndex>();
        float[] queries = TestData.Gaussian(5, D, 4);
        loaded.Search(queries, 4).Ids.Should().Equal(index.Search(queries, 4).Ids);
    }

    [Fact]
    public void Registering_ATakenName_Throws_AndAnUnregisteredKindDoesNotLoad()
    {
        FluentActions.Invoking(() => IndexRegistry.Register(LinearScanIndex.Registration)).Should().Throw<ArgumentException>().WithMessage("*LinearScan*already registered*");
        FluentActions.Invoking(() => IndexRegistry.Register(new IndexKindDescriptor(IndexKinds.Flat, _ => new FlatIndex(1)))).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new IndexKindDescriptor("", _ => new FlatIndex(1))).Should().Throw<ArgumentException>();

        using var stream = new MemoryStream();
        IndexFileFormat.Write(stream, "Test.NeverRegistered", w => w.WriteInt32(1));
        stream.Position = 0;
        FluentActions.Invoking(() => IndexFile.Load(stream)).Should().Throw<InvalidDataException>()
            .WithMessage("*Unknown index kind \"Test.NeverRegistered\"*IndexRegistry.Register*");
    }

    [Fact]
    public void EveryLibraryKindName_IsAPublicConstant_RegisteredOnce()
    {
        string[] constants = typeof(IndexKinds).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetRawConstantValue()!).ToArray();
        string[] indexKinds = IndexRegistry.Kinds.Select(k => k.Name).ToArray();
        string[] transformKinds = IndexRegistry.TransformKinds.Select(k => k.Name).ToArray();
        indexKinds.Should().OnlyHaveUniqueItems();
        constants.Should().BeSubsetOf(indexKinds.Concat(transformKinds));
        indexKinds.Except([LinearScanIndex.KindName]).Should().BeSubsetOf(constants);
        // Each built index reports the constant its file records.
        IndexFactory.Create(8, "HNSW8,SQ8").Kind.Should().Be(IndexKinds.HnswScalarQuantized);
        IndexFactory.Create(8, "PCA4,Flat").Kind.Should().Be(IndexKinds.PreTransform);
        IndexFactory.Create(8, "SQfp16").Kind.Should().Be(IndexKinds.ScalarQuantizer);
    }

    /// <summary>
    /// An application's own index, as small as the contract allows: exact search over rows kept in insertion order. It
    /// shows what a kind needs: the <c>…Core</c> methods, a payload writer and reader, and one <see cref="IndexKindDescriptor"/>.
    /// </summary>
    private sealed class LinearScanIndex(int dimension, Metric metric) : VectorIndex(dimension, metric)
    {
        public const string KindName = "Test.LinearScan";

        public static readonly IndexKindDescriptor Registration = new(KindName, ReadPayload)
        {
            Create = c => c.Token == "LinearScan" ? new LinearScanIndex(c.Dimension, c.FloatMetric) : null,
            FactorySyntax = "LinearScan",
        };

        private readonly List<long> _ids = [];
        private readonly List<float[]> _rows = [];

        public override long Count => _ids.Count;

        public override string Kind => KindName;

        public override long MemoryUsageBytes => _ids.Count * (8L + 4L * Dimension);

        public override ReconstructionKind Reconstruction => ReconstructionKind.Exact;

        public override bool Contains(long id) => _ids.Contains(id);

        public override long[] GetIds() => [.. _ids];

        protected override void ReconstructCore(long id, Span<float> destination)
        {
            int row = _ids.IndexOf(id);
            if (row < 0) throw new KeyNotFoundException($"Id {id} is not in the index.");
            _rows[row].CopyTo(destination);
        }

        protected override void AddCore(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids, int rows)
        {
            if (ids.ToArray().Distinct().Count() != rows || ids.ToArray().Any(_ids.Contains))
                throw new ArgumentException("Ids must be new and unique.", nameof(ids));
            float[] prepared = vectors.ToArray();
            NormalizeForCosine(prepared, nameof(vectors));
            for (int r = 0; r < rows; r++)
            {
                _ids.Add(ids[r]);
                _rows.Add(prepared.AsSpan(r * Dimension, Dimension).ToArray());
            }
        }

        protected override void SearchCore(ReadOnlySpan<float> queries, int rows, int k, Span<long> ids, Span<float> distances, SearchOptions options)
        {
            ReadOnlySpan<float> prepared = PrepareQueries(queries, out float[]? pooled);
            try
            {
                for (int q = 0; q < rows; q++)
                {
                    var heap = new TopKHeap(distances.Slice(q * k, k), ids.Slice(q * k, k));
                    for (int r = 0; r < _rows.Count; r++)
                        if (options.Predicate?.Invoke(_ids[r]) ?? true) heap.Push(Key(prepared.Slice(q * Dimension, Dimension), _rows[r]), _ids[r]);
                    int found = heap.SortAndPad();
                    if (Metric.IsSimilarity()) for (int j = 0; j < found; j++) distances[q * k + j] = -distances[q * k + j];
                }
            }
            finally
            {
                ReturnPooled(pooled);
            }
        }

        protected override RangeSearchResult RangeSearchCore(ReadOnlySpan<float> queries, int rows, float radius, SearchOptions options)
        {
            var offsets = new long[rows + 1];
            var found = new List<(long Id, float Distance)>();
            ReadOnlySpan<float> prepared = PrepareQueries(queries, out float[]? pooled);
            try
            {
                for (int q = 0; q < rows; q++)
                {
                    var hits = new List<(float Key, long Id)>();
                    for (int r = 0; r < _rows.Count; r++)
                    {
                        float key = Key(prepared.Slice(q * Dimension, Dimension), _rows[r]);
                        if (Metric.IsSimilarity() ? -key > radius : key < radius) hits.Add((key, _ids[r]));
                    }
                    hits.Sort();
                    found.AddRange(hits.Select(h => (h.Id, Metric.IsSimilarity() ? -h.Key : h.Key)));
                    offsets[q + 1] = found.Count;
                }
            }
            finally
            {
                ReturnPooled(pooled);
            }
            return new RangeSearchResult(offsets, [.. found.Select(f => f.Id)], [.. found.Select(f => f.Distance)]);
        }

        protected override int RemoveCore(ReadOnlySpan<long> ids)
        {
            foreach (long id in ids)
                if (!_ids.Contains(id)) throw new KeyNotFoundException($"Id {id} is not in the index; nothing was removed.");
            int removed = 0;
            foreach (long id in ids)
            {
                int row = _ids.IndexOf(id);
                if (row < 0) continue;
                _ids.RemoveAt(row);
                _rows.RemoveAt(row);
                removed++;
            }
            return removed;
        }

        protected override void WritePayload(IndexPayloadWriter writer)
        {
            writer.WriteInt32(Dimension);
            writer.WriteInt32((int)Metric);
            writer.WriteInt64(NextId);
            writer.WriteInt64(_ids.Count);
            writer.WriteSpan<long>(_ids.ToArray());
            foreach (float[] row in _rows) writer.WriteSpan<float>(row);
        }

        private static LinearScanIndex ReadPayload(IndexPayloadReader reader)
        {
            int dimension = reader.ReadInt32("dimension", 1, 1 << 16);
            var metric = (Metric)reader.ReadInt32("metric", 0, (int)Metric.Cosine);
            long nextId = reader.ReadInt64("next id", 0, long.MaxValue);
            long count = reader.ReadInt64("count", 0, int.MaxValue);
            long[] ids = reader.ReadArray<long>(count, "ids");
            var index = new LinearScanIndex(dimension, metric) { NextId = nextId };
            foreach (long id in ids)
            {
                index._ids.Add(id);
                index._rows.Add(reader.ReadArray<float>(dimension, "row"));
            }
            return index;
        }

        private float Key(ReadOnlySpan<float> query, float[] row) =>
            Metric == Metric.L2 ? DeepRetrieval.Distances.Distance.SquaredL2(query, row) : -DeepRetrieval.Distances.Distance.InnerProduct(query, row);
    }
}
