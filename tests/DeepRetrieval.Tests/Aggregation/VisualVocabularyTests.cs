using DeepRetrieval.Aggregation;
using DeepRetrieval.Clustering;
using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Hnsw;

namespace DeepRetrieval.Tests.Aggregation;

public class VisualVocabularyTests
{
    [Fact]
    public void Train_FindsTheClusters_AndAssignsToTheNearestWord()
    {
        float[] data = TestData.Clustered(2000, 8, 10, seed: 4);
        VisualVocabulary vocabulary = VisualVocabulary.Train(data, 8, 10, new KMeansOptions { Seed = 9 });
        vocabulary.Size.Should().Be(10);
        vocabulary.Dimension.Should().Be(8);
        int[] words = vocabulary.Assign(data);
        for (int i = 0; i < 2000; i += 97)
        {
            float[] x = data.AsSpan(i * 8, 8).ToArray();
            int nearest = Enumerable.Range(0, 10).MinBy(w => System.Numerics.Tensors.TensorPrimitives.Distance(x, vocabulary.Centroid(w)));
            words[i].Should().Be(nearest);
        }
    }

    [Fact]
    public void AssignSoft_WeighsTheNearestWordsByAGaussianKernel()
    {
        // Words at 0, 1 and 3 on a line; x = 0.4 is 0.4, 0.6 and 2.6 away. With σ = 1 and two neighbours the weights are
        // ∝ exp(−0.16 / 2) and exp(−0.36 / 2): 0.5250 and 0.4750.
        var vocabulary = new VisualVocabulary([0f, 1f, 3f], 1);
        SoftAssignment soft = vocabulary.AssignSoft([0.4f], neighbours: 2, sigma: 1);
        soft.Count.Should().Be(1);
        soft.Words.Should().Equal(0, 1);
        double expected = Math.Exp(-0.08) / (Math.Exp(-0.08) + Math.Exp(-0.18));
        soft.Weights[0].Should().BeApproximately((float)expected, 1e-6f);
        soft.Weights[1].Should().BeApproximately((float)(1 - expected), 1e-6f);
        // More neighbours than words: the missing one is −1 with weight 0.
        SoftAssignment all = vocabulary.AssignSoft([0.4f], neighbours: 4, sigma: 1);
        all.Words[3].Should().Be(-1);
        all.Weights[3].Should().Be(0f);
        all.Weights.Sum().Should().BeApproximately(1f, 1e-6f);
    }

    [Fact]
    public void LargeVocabulary_AssignedThroughHnsw_AgreesWithExactAssignment()
    {
        // 100 000 words: the approximate index finds the exact nearest word for almost every descriptor.
        const int words = 100_000, dimension = 8;
        float[] centres = TestData.Gaussian(words, dimension, seed: 21);
        var hnsw = new HnswIndex(dimension, Metric.L2, m: 12, efConstruction: 60);
        hnsw.Add(centres);
        hnsw.SetSearchParameter("ef", 64);
        var exact = new VisualVocabulary(centres, dimension);
        VisualVocabulary approximate = exact.WithAssignmentIndex(hnsw);
        float[] descriptors = TestData.Gaussian(500, dimension, seed: 22);
        int[] truth = exact.Assign(descriptors), found = approximate.Assign(descriptors);
        truth.Zip(found).Count(p => p.First == p.Second).Should().BeGreaterThanOrEqualTo(480);
        approximate.AssignmentIndex.Should().BeSameAs(hnsw);
    }

    [Fact]
    public void SaveAndLoad_RoundTripTheCentres_AndAnAssignmentIndex()
    {
        var hnsw = new HnswIndex(2);
        float[] centres = [0, 0, 5, 5, -3, 2];
        hnsw.Add(centres);
        var vocabulary = new VisualVocabulary(centres, 2, hnsw);
        string path = Path.Combine(Path.GetTempPath(), $"vocabulary-{Guid.NewGuid():N}.drix");
        try
        {
            vocabulary.Save(path);
            VisualVocabulary loaded = VisualVocabulary.Load(path);
            loaded.Centroids.Should().Equal(centres);
            loaded.AssignmentIndex.Should().NotBeNull();
            loaded.Assign([4.5f, 4f, -2f, 2f]).Should().Equal(1, 2);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Load_RejectsCorruptAndForeignFiles()
    {
        var stream = new MemoryStream();
        new VisualVocabulary([1f, 2f], 1).Save(stream);
        byte[] bytes = stream.ToArray();
        bytes[bytes.Length / 2] ^= 0x40;
        FluentActions.Invoking(() => VisualVocabulary.Load(new MemoryStream(bytes))).Should().Throw<InvalidDataException>().WithMessage("*checksum*");
        var mixture = new MemoryStream();
        new GaussianMixture([1f], [0f], [1f], 1).Save(mixture);
        mixture.Position = 0;
        FluentActions.Invoking(() => VisualVocabulary.Load(mixture)).Should().Throw<InvalidDataException>().WithMessage("*does not hold a VisualVocabulary*");
        FluentActions.Invoking(() => VisualVocabulary.Load(new MemoryStream(bytes[..10]))).Should().Throw<InvalidDataException>().WithMessage("*Truncated*");
    }

    [Fact]
    public void BadArguments_AreRejected()
    {
        var vocabulary = new VisualVocabulary([0f, 0f, 1f, 1f], 2);
        FluentActions.Invoking(() => vocabulary.Assign([1f, 2f, 3f])).Should().Throw<ArgumentException>().WithMessage("*dimension mismatch*");
        FluentActions.Invoking(() => new VisualVocabulary([1f, float.NaN], 2)).Should().Throw<ArgumentException>().WithMessage("*finite*");
        FluentActions.Invoking(() => new VisualVocabulary([1f, 2f, 3f], 2)).Should().Throw<ArgumentException>();
        var wrong = new FlatIndex(2);
        wrong.Add(new float[] { 0, 0 });
        FluentActions.Invoking(() => vocabulary.WithAssignmentIndex(wrong)).Should().Throw<ArgumentException>().WithMessage("*holds 1 vectors*2 words*");
        FluentActions.Invoking(() => vocabulary.AssignSoft([0f, 0f], 1, sigma: 0)).Should().Throw<ArgumentOutOfRangeException>();
        vocabulary.Assign(ReadOnlySpan<float>.Empty).Should().BeEmpty();
    }
}
