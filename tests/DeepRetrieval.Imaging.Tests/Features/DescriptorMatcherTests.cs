using DeepRetrieval.Imaging.Features;
using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Hnsw;

namespace DeepRetrieval.Imaging.Tests.Features;

public class DescriptorMatcherTests
{
    // Train: (0, 0), (10, 0), (0, 10), (10.5, 0.1). Query 0 has one clear neighbour; query 1 = (5, 5) is √50 from the first
    // three (ambiguous); query 2 = (10.2, 0.05) is near both train 1 and train 3. Distances are worked out in each test.
    private static readonly float[] Train = [0, 0, 10, 0, 0, 10, 10.5f, 0.1f];
    private static readonly float[] Query = [0.5f, 0, 5, 5, 10.2f, 0.05f];

    [Fact]
    public void Match_AppliesLowesRatioTest_OnEuclideanDistances()
    {
        FeatureMatch[] matches = DescriptorMatcher.Match(Query, Train, 2, new MatchOptions { RatioThreshold = 0.8f });
        // Query 0: 0.5 to train 0, next 9.5 → kept. Query 1: √50 to three train descriptors → ratio 1, rejected.
        // Query 2: √(0.04 + 0.0025) = 0.206 to train 1, √(0.09 + 0.0025) = 0.304 to train 3 → 0.68 < 0.8, kept with train 1.
        matches.Should().HaveCount(2);
        matches[0].Should().Be(new FeatureMatch(0, 0, 0.5f));
        matches[1].QueryIndex.Should().Be(2);
        matches[1].TrainIndex.Should().Be(1);
        // The flat index computes ‖q‖² + ‖t‖² − 2 q·t in float, so the distance is exact to about 1e−4 here.
        matches[1].Distance.Should().BeApproximately(MathF.Sqrt(0.2f * 0.2f + 0.05f * 0.05f), 1e-4f);
    }

    [Fact]
    public void Match_WithoutRatioTest_ReturnsEveryNearestNeighbour()
    {
        FeatureMatch[] matches = DescriptorMatcher.Match(Query, Train, 2, new MatchOptions { RatioThreshold = null });
        // Query 1 is √50 from train 0, 1 and 2 alike; equal distances go to the lowest id.
        matches.Select(m => (m.QueryIndex, m.TrainIndex)).Should().Equal((0, 0), (1, 0), (2, 1));
    }

    [Fact]
    public void Match_MutualNearest_KeepsOnlyPairsThatChooseEachOther()
    {
        // Train 1's nearest query is query 2 (0.206), so (2, 1) is mutual; train 0's nearest query is query 0 (0.5).
        // Query 1 → train 0 (three-way tie, lowest id), but train 0 prefers query 0: not mutual.
        FeatureMatch[] matches = DescriptorMatcher.Match(Query, Train, 2, new MatchOptions { RatioThreshold = null, MutualNearest = true });
        matches.Select(m => (m.QueryIndex, m.TrainIndex)).Should().Equal((0, 0), (2, 1));
    }

    [Fact]
    public void Match_MaxDistance_DropsDistantPairs()
    {
        FeatureMatch[] matches = DescriptorMatcher.Match(Query, Train, 2, new MatchOptions { RatioThreshold = null, MaxDistance = 0.4f });
        matches.Select(m => m.QueryIndex).Should().Equal(2);
    }

    [Fact]
    public void Match_ThroughAnApproximateIndex_FindsTheBruteForceMatches_OnRealSift()
    {
        LocalFeatures first = SiftFixtures.OpenCv("chelsea"), second = SiftFixtures.OpenCv("chelsea_warp");
        FeatureMatch[] exact = DescriptorMatcher.Match(first, second);
        var hnsw = new HnswIndex(128, Metric.L2, m: 16, efConstruction: 200);
        hnsw.Add(second.Descriptors);
        hnsw.SetSearchParameter("ef", 128);
        FeatureMatch[] approximate = DescriptorMatcher.Match(first.Descriptors, hnsw, new MatchOptions(), second.Descriptors);
        exact.Length.Should().BeGreaterThan(40);
        var exactPairs = exact.Select(m => (m.QueryIndex, m.TrainIndex)).ToHashSet();
        approximate.Count(m => exactPairs.Contains((m.QueryIndex, m.TrainIndex))).Should().BeGreaterThanOrEqualTo(exact.Length * 95 / 100);
        FeatureMatch[] mutual = DescriptorMatcher.Match(first.Descriptors, hnsw, new MatchOptions { MutualNearest = true }, second.Descriptors);
        FeatureMatch[] mutualExact = DescriptorMatcher.Match(first, second, new MatchOptions { MutualNearest = true });
        mutual.Length.Should().BeCloseTo(mutualExact.Length, (uint)(mutualExact.Length / 20 + 1));
    }

    [Fact]
    public void Match_WithACosineIndex_ReportsEuclideanDistancesOfUnitVectors()
    {
        var index = new FlatIndex(2, Metric.Cosine);
        index.Add(new float[] { 1, 0, 0, 1 });
        FeatureMatch[] matches = DescriptorMatcher.Match(new float[] { 2, 0 }, index, new MatchOptions { RatioThreshold = null });
        matches.Should().ContainSingle().Which.Should().Be(new FeatureMatch(0, 0, 0f));
    }

    [Fact]
    public void Match_WithEmptySides_ReturnsNoMatches()
    {
        DescriptorMatcher.Match(ReadOnlySpan<float>.Empty, Train, 2).Should().BeEmpty();
        DescriptorMatcher.Match(Query, ReadOnlySpan<float>.Empty, 2).Should().BeEmpty();
        DescriptorMatcher.Match(LocalFeatures.Empty(128), SiftFixtures.OpenCv("coffee")).Should().BeEmpty();
    }

    [Fact]
    public void BadArguments_AreRejected()
    {
        FluentActions.Invoking(() => DescriptorMatcher.Match(Query, Train, 4)).Should().Throw<ArgumentException>().WithMessage("*dimension 4*");
        FluentActions.Invoking(() => DescriptorMatcher.Match(LocalFeatures.Empty(64), LocalFeatures.Empty(128))).Should().Throw<ArgumentException>().WithMessage("*64*128*");
        FluentActions.Invoking(() => DescriptorMatcher.Match(Query, Train, 2, new MatchOptions { RatioThreshold = 1.5f })).Should().Throw<ArgumentOutOfRangeException>();
        var inner = new FlatIndex(2, Metric.InnerProduct);
        FluentActions.Invoking(() => DescriptorMatcher.Match(Query, inner)).Should().Throw<ArgumentException>().WithMessage("*L2 or cosine*");
        var l2 = new FlatIndex(2);
        l2.Add(Train);
        FluentActions.Invoking(() => DescriptorMatcher.Match(Query, l2, new MatchOptions { MutualNearest = true })).Should().Throw<ArgumentException>().WithMessage("*trainDescriptors*");
    }
}
