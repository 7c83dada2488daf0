using DeepRetrieval.Aggregation;

namespace DeepRetrieval.Tests.Aggregation;

public class AsmkIndexTests
{
    private static VisualVocabulary Words() => new(AggregationFixtures.Load("asmk_words").Data, 16);

    [Theory]
    [InlineData(true, 0)]
    [InlineData(false, 1)]
    public void Similarity_MatchesTheNumpyReference(bool binarize, int referenceIndex)
    {
        var index = new AsmkIndex(Words(), new AsmkOptions { Binarize = binarize });
        double kernel = index.Similarity(AggregationFixtures.Load("asmk_a").Data, AggregationFixtures.Load("asmk_b").Data);
        kernel.Should().BeApproximately(AggregationFixtures.Load("asmk_kernels").Data[referenceIndex], 1e-5);
    }

    [Fact]
    public void Similarity_OfAnImageWithItself_IsOne()
    {
        var index = new AsmkIndex(Words());
        float[] a = AggregationFixtures.Load("asmk_a").Data;
        index.Similarity(a, a).Should().BeApproximately(1.0, 1e-6);
        index.Similarity(a, ReadOnlySpan<float>.Empty).Should().Be(0);
    }

    [Fact]
    public void Search_RanksTheSourceImageFirst_AndScoresItWithTheKernel()
    {
        VisualVocabulary words = Words();
        var index = new AsmkIndex(words);
        float[] a = AggregationFixtures.Load("asmk_a").Data, b = AggregationFixtures.Load("asmk_b").Data;
        index.Add(1, a);
        index.Add(2, b);
        for (int i = 0; i < 8; i++) index.Add(10 + i, TestData.Gaussian(20, 16, seed: 40 + i));
        ScoredImage[] results = index.Search(a, 3);
        results[0].Id.Should().Be(1);
        results[0].Score.Should().BeApproximately(1f, 1e-5f);
        results.Select(r => r.Id).Should().Contain(2);
        results.First(r => r.Id == 2).Score.Should().BeApproximately((float)index.Similarity(a, b), 1e-5f);
        index.Remove([1]).Should().Be(1);
        index.Search(a, 1)[0].Id.Should().NotBe(1);
    }

    [Fact]
    public void MultipleAssignment_OnTheQuery_TouchesMoreWords()
    {
        VisualVocabulary words = Words();
        float[] a = AggregationFixtures.Load("asmk_a").Data;
        var hard = new AsmkIndex(words);
        var multiple = new AsmkIndex(words, new AsmkOptions { QueryAssignments = 3 });
        for (int i = 0; i < 6; i++)
        {
            float[] image = TestData.Gaussian(15, 16, seed: 70 + i);
            hard.Add(i, image);
            multiple.Add(i, image);
        }
        multiple.Search(a, 6).Length.Should().BeGreaterThanOrEqualTo(hard.Search(a, 6).Length);
    }

    [Fact]
    public void SaveAndLoad_GiveTheSameResults()
    {
        var index = new AsmkIndex(Words(), new AsmkOptions { Alpha = 2, Threshold = 0.1 });
        for (int i = 0; i < 5; i++) index.Add(i, TestData.Gaussian(12, 16, seed: 90 + i));
        index.Remove([2]);
        float[] query = TestData.Gaussian(12, 16, seed: 91);
        var stream = new MemoryStream();
        index.Save(stream);
        stream.Position = 0;
        AsmkIndex loaded = AsmkIndex.Load(stream);
        loaded.Count.Should().Be(4);
        loaded.Options.Should().Be(index.Options);
        loaded.Search(query, 5).Should().Equal(index.Search(query, 5));
    }

    [Fact]
    public void BadArguments_AreRejected()
    {
        var index = new AsmkIndex(Words());
        FluentActions.Invoking(() => index.Add(1, new float[15])).Should().Throw<ArgumentException>().WithMessage("*dimension mismatch*");
        index.Add(1, ReadOnlySpan<float>.Empty);
        FluentActions.Invoking(() => index.Add(1, new float[16])).Should().Throw<ArgumentException>().WithMessage("*already*");
        FluentActions.Invoking(() => new AsmkIndex(Words(), new AsmkOptions { QueryAssignments = 7 })).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new AsmkIndex(Words(), new AsmkOptions { Alpha = 0 })).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => index.Remove([5])).Should().Throw<KeyNotFoundException>();
    }
}
