using DeepRetrieval.Clustering;
using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Codes;
using DeepRetrieval.Persistence;
using DeepRetrieval.Tests.Transforms;
using DeepRetrieval.Transforms;

namespace DeepRetrieval.Tests.Indexes;

public class TransformedIndexTests
{
    private static double TenRecall(IVectorIndex index, float[] data, float[] queries, int d, Metric metric = Metric.L2)
    {
        var exact = new FlatIndex(d, metric);
        exact.Add(data);
        SearchResult truth = exact.Search(queries, 10);
        var ids = new long[queries.Length / d * 10];
        var distances = new float[ids.Length];
        index.Search(queries, 10, ids, distances);
        int hits = 0, nq = queries.Length / d;
        for (int q = 0; q < nq; q++)
            hits += ids.AsSpan(q * 10, 10).ToArray().Intersect(truth.IdsOf(q).ToArray()).Count();
        return hits / (10.0 * nq);
    }

    // Data that lies near a low-dimensional subspace: 8 strong directions plus weak isotropic noise in 32 dimensions.
    private static float[] LowRankData(int rows, int seed)
    {
        const int d = 32, rank = 8;
        float[] latent = TestData.Clustered(rows, rank, 15, seed);
        float[] noise = TestData.Gaussian(rows, d, seed + 10, 0.05f);
        float[] mix = PcaTransform.ToRowMajor(PcaTransform.RandomOrthogonal(d, seed + 20));
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < d; j++)
                for (int i = 0; i < rank; i++) noise[r * d + j] += latent[r * rank + i] * mix[i * d + j];
        return noise;
    }

    [Fact]
    public void PcaThenFlat_KeepsRecall_OnDataNearASubspace()
    {
        const int d = 32;
        float[] all = LowRankData(2100, 1);
        float[] data = all[..(2000 * d)], queries = all[(2000 * d)..];
        var index = new TransformedIndex(new PcaTransform(d, 8), new FlatIndex(8));
        index.Dimension.Should().Be(32);
        index.Kind.Should().Be("PreTransform");
        index.IsTrained.Should().BeFalse();
        index.Train(data);
        index.IsTrained.Should().BeTrue();
        index.Add(data);
        index.Count.Should().Be(2000);
        // Measured 0.996: the dropped 24 dimensions hold only the weak noise.
        TenRecall(index, data, queries, d).Should().BeGreaterThan(0.9);

        // Distances are the inner index's, in the projected space.
        float[] projected = index.ApplyTransforms(queries.AsSpan(0, d));
        SearchResult viaOuter = index.Search(queries.AsSpan(0, d), 3);
        SearchResult viaInner = ((FlatIndex)index.Inner).Search(projected, 3);
        viaOuter.Ids.Should().Equal(viaInner.Ids);
        viaOuter.Distances.Should().Equal(viaInner.Distances);
    }

    [Fact]
    public void SingleQuerySearch_ThroughPcaAndOpq_AllocatesNothing()
    {
        const int d = 16;
        float[] data = OpqTransformTests.CorrelatedData(400, d, 8);
        var index = new TransformedIndex([new PcaTransform(d, 8), new OpqTransform(8, 2, bitsPerCode: 4, iterations: 1)], new FlatIndex(8));
        index.Train(data);
        index.Add(data);
        var ids = new long[5];
        var distances = new float[5];
        var options = new SearchOptions { MaxDegreeOfParallelism = 1 };
        for (int warm = 0; warm < 5; warm++) index.Search(data.AsSpan(0, d), 5, ids, distances, options);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int q = 0; q < 20; q++) index.Search(data.AsSpan(q * d, d), 5, ids, distances, options);
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0);
    }

    [Fact]
    public void OpqThenPq_RecallsAtLeastAsWellAsPqAlone_OnCorrelatedData()
    {
        const int d = 16, m = 4, bits = 5;
        float[] all = OpqTransformTests.CorrelatedData(2100, d, 7);
        float[] data = all[..(2000 * d)], queries = all[(2000 * d)..];
        var training = new KMeansOptions { Iterations = 10 };
        var plain = new PqIndex(d, m, bits) { TrainingOptions = training };
        plain.Train(data);
        plain.Add(data);
        var opq = new TransformedIndex(new OpqTransform(d, m, bitsPerCode: bits, iterations: 6), new PqIndex(d, m, bits) { TrainingOptions = training });
        opq.Train(data);
        opq.Add(data);
        double without = TenRecall(plain, data, queries, d), with = TenRecall(opq, data, queries, d);
        // Measured: 0.381 without OPQ, 0.512 with.
        with.Should().BeGreaterThanOrEqualTo(without + 0.07, "OPQ halves the quantization error here (PQ alone: {0:F3})", without);
    }

    [Fact]
    public void Train_TrainsEachTransformOnThePreviousOutput_ThenTheInnerIndex()
    {
        const int d = 16;
        float[] data = OpqTransformTests.CorrelatedData(600, d, 3);
        var pca = new PcaTransform(d, 8);
        var opq = new OpqTransform(8, 2, bitsPerCode: 4, iterations: 2);
        var inner = new PqIndex(8, 2, 4) { TrainingOptions = new KMeansOptions { Iterations = 3 } };
        var index = new TransformedIndex([pca, opq], inner);
        index.Train(data);
        pca.IsTrained.Should().BeTrue();
        opq.IsTrained.Should().BeTrue();
        inner.IsTrained.Should().BeTrue();

        // The OPQ saw PCA's output: training a fresh OPQ on it gives the same rotation.
        var projected = new float[600 * 8];
        pca.Apply(data, projected);
        var again = new OpqTransform(8, 2, bitsPerCode: 4, iterations: 2);
        again.Train(projected);
        again.Rotation.ToArray().Should().Equal(opq.Rotation.ToArray());

        // Trained parts are left alone.
        float[] mean = pca.Mean.ToArray();
        index.Train(OpqTransformTests.CorrelatedData(600, d, 4));
        pca.Mean.ToArray().Should().Equal(mean);
        index.Add(data);
        index.Count.Should().Be(600);
    }

    [Fact]
    public void WrongDimensions_AreRejectedWithClearMessages()
    {
        FluentActions.Invoking(() => new TransformedIndex(new PcaTransform(16, 8), new FlatIndex(4)))
            .Should().Throw<ArgumentException>().WithMessage("*outputs dimension 8*inner index has dimension 4*");
        FluentActions.Invoking(() => new TransformedIndex([new PcaTransform(16, 8), new PcaTransform(6, 4)], new FlatIndex(4)))
            .Should().Throw<ArgumentException>().WithMessage("*Transform 0 (PCA) outputs dimension 8 but transform 1 (PCA) takes dimension 6*");
        var filled = new FlatIndex(8);
        filled.Add(new float[8]);
        FluentActions.Invoking(() => new TransformedIndex(new PcaTransform(16, 8), filled)).Should().Throw<ArgumentException>().WithMessage("*already holds*");

        var index = new TransformedIndex(new PcaTransform(16, 8), new FlatIndex(8));
        FluentActions.Invoking(() => index.Add(new float[16])).Should().Throw<InvalidOperationException>().WithMessage("*Train*");
        FluentActions.Invoking(() => index.Search(new float[16], 2)).Should().Throw<InvalidOperationException>().WithMessage("*trained before it is searched*");
        FluentActions.Invoking(() => index.Save(new MemoryStream())).Should().Throw<InvalidOperationException>().WithMessage("*trained*");
        FluentActions.Invoking(() => index.Train(new float[8])).Should().Throw<ArgumentException>().WithMessage("*dimension 16*");
        index.Train(TestData.Gaussian(50, 16, 1));
        FluentActions.Invoking(() => index.Add(new float[8])).Should().Throw<ArgumentException>().WithMessage("*dimension 16*");
        FluentActions.Invoking(() => index.Search(new float[12], 1)).Should().Throw<ArgumentException>().WithMessage("*dimension 16*");
        index.Add(TestData.Gaussian(3, 16, 2));
        FluentActions.Invoking(() => index.Remove([7])).Should().Throw<KeyNotFoundException>();
        index.Remove([1]).Should().Be(1);
        index.Count.Should().Be(2);
        FluentActions.Invoking(() => index.SetSearchParameter("ef", 3)).Should().Throw<ArgumentException>().WithMessage("*Flat*ef*");
    }

    [Fact]
    public void Save_RefusesTransformsAnIndexFileCannotRead()
    {
        var index = new TransformedIndex(new DoublingTransform(), new FlatIndex(2));
        index.Add([1f, 2f]);
        index.Search([1f, 2f], 1).Distances.Should().Equal(0f);
        FluentActions.Invoking(() => index.Save(new MemoryStream())).Should().Throw<InvalidOperationException>().WithMessage("*Doubling*cannot be saved*");
    }

    [Fact]
    public void Load_RejectsAnUnknownTransformKind()
    {
        var index = new TransformedIndex(new PcaTransform(2, 2), new FlatIndex(2));
        index.Train([0f, 0f, 1f, 2f, 3f, 1f]);
        var stream = new MemoryStream();
        index.Save(stream);
        byte[] file = stream.ToArray();
        // Header "DRIX", version, kind length, "PreTransform"; payload: dimension, next id, count, then the kind "PCA".
        int kindAt = 4 + 4 + 1 + "PreTransform".Length + 4 + 8 + 4 + 4;
        System.Text.Encoding.ASCII.GetString(file, kindAt, 3).Should().Be("PCA");
        file[kindAt] = (byte)'X';
        byte[] payload = file[(4 + 4 + 1 + "PreTransform".Length)..^16];
        FluentActions.Invoking(() => TransformedIndex.ReadPayload(new IndexPayloadReader(new MemoryStream(payload), payload.Length, "PreTransform")))
            .Should().Throw<InvalidDataException>().WithMessage("*unknown kind \"XCA\"*");
    }

    private sealed class DoublingTransform : IVectorTransform
    {
        public int InputDimension => 2;
        public int OutputDimension => 2;
        public bool IsTrained => true;
        public string Kind => "Doubling";
        public void Train(ReadOnlySpan<float> vectors) { }
        public void Apply(ReadOnlySpan<float> input, Span<float> output)
        {
            for (int i = 0; i < input.Length; i++) output[i] = 2 * input[i];
        }
        public void Write(IndexPayloadWriter writer) => throw new NotSupportedException();
    }
}
