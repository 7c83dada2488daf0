using DeepRetrieval.Aggregation;

namespace DeepRetrieval.Tests.Aggregation;

public class InvertedFileTests
{
    [Fact]
    public void Search_ScoresTfIdfCosine_ByHand()
    {
        // Vocabulary of 4 words, raw counts (no burstiness damping), N = 3 images:
        //   image 1: word 0 ×2, word 1 ×1;  image 2: word 1 ×1, word 2 ×1;  image 3: word 3 ×4.
        // Document frequencies 1, 2, 1, 1 → idf ln 3, ln 1.5, ln 3, ln 3.
        // Query: word 0 ×1, word 1 ×1 → weighted (ln 3, ln 1.5), unit length after L2.
        var file = new InvertedFile(4, new BagOfWordsOptions { Burstiness = BurstinessHandling.None });
        file.Add(1, [0, 0, 1]);
        file.Add(2, [1, 2]);
        file.Add(3, [3, 3, 3, 3]);
        ScoredImage[] results = file.Search([0, 1], topN: 10);
        double l3 = Math.Log(3), l15 = Math.Log(1.5);
        double q = Math.Sqrt(l3 * l3 + l15 * l15);
        double image1 = (l3 * 2 * l3 + l15 * l15) / (q * Math.Sqrt(4 * l3 * l3 + l15 * l15));
        double image2 = l15 * l15 / (q * Math.Sqrt(l15 * l15 + l3 * l3));
        results.Select(r => r.Id).Should().Equal(1, 2);
        results[0].Score.Should().BeApproximately((float)image1, 1e-6f);
        results[1].Score.Should().BeApproximately((float)image2, 1e-6f);
        file.InverseDocumentFrequency(1).Should().BeApproximately((float)l15, 1e-7f);
    }

    [Theory]
    [InlineData(VectorNormalization.L2, HistogramSimilarity.DotProduct, "bow_scores_l2_dot")]
    [InlineData(VectorNormalization.L1, HistogramSimilarity.Intersection, "bow_scores_l1_intersection")]
    public void Search_MatchesTheNumpyReference(VectorNormalization normalization, HistogramSimilarity similarity, string reference)
    {
        float[] flat = AggregationFixtures.Load("bow_documents").Data;
        int[] query = AggregationFixtures.Load("bow_query").Data.Select(v => (int)v).ToArray();
        float[] expected = AggregationFixtures.Load(reference).Data;
        var file = new InvertedFile(60, new BagOfWordsOptions { Normalization = normalization, Similarity = similarity });
        for (int i = 0, at = 0; at < flat.Length; i++)
        {
            int length = (int)flat[at];
            file.Add(i, flat.AsSpan(at + 1, length).ToArray().Select(v => (int)v).ToArray());
            at += length + 1;
        }
        file.Count.Should().Be(40);
        ScoredImage[] results = file.Search(query, topN: 40);
        foreach (ScoredImage r in results) r.Score.Should().BeApproximately(expected[r.Id], 1e-5f);
        // Every image with a positive reference score is returned, best first; image 7 shares ten words with the query.
        results.Length.Should().Be(expected.Count(s => s > 0));
        results[0].Id.Should().Be(7);
        results.Select(r => r.Score).Should().BeInDescendingOrder();
    }

    [Fact]
    public void Burstiness_SquareRootAndBinary_DampRepeatedWords()
    {
        // One image repeats word 0 nine times; with raw counts it dominates, with √ or presence it does not.
        foreach (var (burstiness, expected) in new[] { (BurstinessHandling.None, 9f), (BurstinessHandling.SquareRoot, 3f), (BurstinessHandling.Binary, 1f) })
        {
            var file = new InvertedFile(3, new BagOfWordsOptions { Burstiness = burstiness, Weighting = TermWeighting.TermFrequency, Normalization = VectorNormalization.None });
            file.Add(1, Enumerable.Repeat(0, 9).ToArray());
            file.Search([0], 1)[0].Score.Should().BeApproximately(expected, 1e-6f);
        }
    }

    [Fact]
    public void Remove_DropsImages_AndUpdatesTheStatistics()
    {
        var file = new InvertedFile(3, new BagOfWordsOptions { Burstiness = BurstinessHandling.None });
        file.Add(1, [0, 1]);
        file.Add(2, [1]);
        file.Add(3, [2]);
        file.InverseDocumentFrequency(1).Should().BeApproximately((float)Math.Log(1.5), 1e-7f);
        file.Remove([2]).Should().Be(1);
        file.Contains(2).Should().BeFalse();
        file.Count.Should().Be(2);
        file.InverseDocumentFrequency(1).Should().BeApproximately((float)Math.Log(2), 1e-7f);
        file.Search([1], 5).Select(r => r.Id).Should().Equal(1);
        FluentActions.Invoking(() => file.Remove([1, 99])).Should().Throw<KeyNotFoundException>();
        file.Contains(1).Should().BeTrue("a failed removal removes nothing");
    }

    [Fact]
    public void SaveAndLoad_GiveTheSameResults()
    {
        var random = new Random(3);
        var file = new InvertedFile(50, new BagOfWordsOptions { Similarity = HistogramSimilarity.Intersection, Normalization = VectorNormalization.L1 });
        for (int i = 0; i < 30; i++) file.Add(i * 10, Enumerable.Range(0, 20).Select(_ => random.Next(50)).ToArray());
        file.Remove([40]);
        int[] query = Enumerable.Range(0, 15).Select(_ => random.Next(50)).ToArray();
        string path = Path.Combine(Path.GetTempPath(), $"ivf-{Guid.NewGuid():N}.drix");
        try
        {
            file.Save(path);
            InvertedFile loaded = InvertedFile.Load(path);
            loaded.Count.Should().Be(29);
            loaded.Options.Should().Be(file.Options);
            loaded.Search(query, 10).Should().Equal(file.Search(query, 10));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Load_RejectsCorruption()
    {
        var file = new InvertedFile(5);
        file.Add(1, [0, 3]);
        var stream = new MemoryStream();
        file.Save(stream);
        byte[] bytes = stream.ToArray();
        bytes[^20] ^= 1;
        FluentActions.Invoking(() => InvertedFile.Load(new MemoryStream(bytes))).Should().Throw<InvalidDataException>();
    }

    [Fact]
    public void BadInput_IsRejected_AndEmptyQueriesMatchNothing()
    {
        var file = new InvertedFile(4);
        file.Add(1, [0, 1]);
        FluentActions.Invoking(() => file.Add(1, [2])).Should().Throw<ArgumentException>().WithMessage("*already*");
        FluentActions.Invoking(() => file.Add(2, [4])).Should().Throw<ArgumentException>().WithMessage("*outside the vocabulary of 4*");
        FluentActions.Invoking(() => file.Search(new SparseVector(5, [0], [1f]), 3)).Should().Throw<ArgumentException>().WithMessage("*5 words*4*");
        FluentActions.Invoking(() => file.Add(3, new SparseVector(4, [0], [-1f]))).Should().Throw<ArgumentException>().WithMessage("*negative*");
        FluentActions.Invoking(() => file.Search([0], 0)).Should().Throw<ArgumentOutOfRangeException>();
        file.Search(ReadOnlySpan<int>.Empty, 5).Should().BeEmpty();
        file.Add(5, ReadOnlySpan<int>.Empty);
        file.Search([0], 5).Select(r => r.Id).Should().Equal(1);
    }

    [Fact]
    public void SparseVector_CountsWords_AndValidates()
    {
        SparseVector v = SparseVector.FromWords([3, 1, 3, 3], 5);
        v.Indices.Should().Equal(1, 3);
        v.Values.Should().Equal(1f, 3f);
        v.Dot(SparseVector.FromWords([3, 4], 5)).Should().Be(3);
        v.ToDense().Should().Equal(0f, 1f, 0f, 3f, 0f);
        FluentActions.Invoking(() => new SparseVector(5, [3, 1], [1f, 1f])).Should().Throw<ArgumentException>().WithMessage("*increasing*");
        FluentActions.Invoking(() => new SparseVector(5, [1], [float.NaN])).Should().Throw<ArgumentException>();
    }
}
