using System.Text.Json;
using DeepRetrieval.Evaluation.Protocols;

namespace DeepRetrieval.Tests.Evaluation.Protocols;

public class ReidentificationProtocolTests
{
    // Expected values: Market-1501's MATLAB evaluation.m / compute_AP.m run under Octave by Reference/benchmark_metrics_reference.py.
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Evaluate_MatchesTheMarket1501MatlabCode(int index)
    {
        JsonElement c = ReferenceFixture.ReadJson("market_cases.json")[index];
        double[] distances = c.GetProperty("distances").Doubles();
        int[] galleryIdentities = c.GetProperty("galleryIdentities").Ints(), galleryCameras = c.GetProperty("galleryCameras").Ints();
        int[] queryIdentities = c.GetProperty("queryIdentities").Ints(), queryCameras = c.GetProperty("queryCameras").Ints();
        int g = galleryIdentities.Length, q = queryIdentities.Length;
        // MATLAB's sort(score, 'ascend') is stable.
        long[] ranks = Enumerable.Range(0, q)
            .SelectMany(i => Enumerable.Range(0, g).OrderBy(j => distances[i * g + j]).ThenBy(j => j).Select(j => (long)j)).ToArray();

        ReidentificationResult result = ReidentificationProtocol.Evaluate(ranks, g, queryIdentities, queryCameras, galleryIdentities, galleryCameras);

        result.MeanAveragePrecision.Should().BeApproximately(c.GetProperty("map").GetDouble(), 1e-12);
        result.Cmc.Should().Equal(c.GetProperty("cmc").Doubles(), (a, b) => Math.Abs(a - b) < 1e-12);
        result.QueriesWithoutMatches.Should().Be(1);
    }

    [Fact]
    public void Evaluate_RemovesJunkAndSameCameraMatches_ByHand()
    {
        // Query: identity 5, camera 1. Gallery: 0 junk (−1), 1 identity 5 camera 1 (junk), 2 identity 0 (distractor),
        // 3 identity 5 camera 2 (match), 4 identity 5 camera 3 (match). Ranking 0, 1, 2, 3, 4 → after junk: 2, 3, 4,
        // matches at ranks 1 and 2 (0-based). AP = ½·(0/1 + 1/2)/2 + ½·(1/2 + 2/3)/2 = 0.125 + 0.291667 = 5/12.
        ReidentificationResult result = ReidentificationProtocol.Evaluate([0, 1, 2, 3, 4], 5, [5], [1], [-1, 5, 0, 5, 5], [1, 1, 1, 2, 3]);

        result.MeanAveragePrecision.Should().BeApproximately(5.0 / 12, 1e-12);
        result.Cmc.Should().Equal(0, 1, 1, 1, 1);
        result.Rank1.Should().Be(0);
    }

    [Fact]
    public void Evaluate_RejectsPositionsOutsideTheGalleryAndMismatchedShapes()
    {
        FluentActions.Invoking(() => ReidentificationProtocol.Evaluate([0, 7], 2, [1], [1], [1, 1], [2, 2]))
            .Should().Throw<ArgumentException>().WithParameterName("ranks");
        FluentActions.Invoking(() => ReidentificationProtocol.Evaluate([0, 1], 2, [1, 2], [1], [1, 1], [2, 2]))
            .Should().Throw<ArgumentException>().WithParameterName("queryIdentities");
        FluentActions.Invoking(() => ReidentificationProtocol.Evaluate([0, 1], 2, [1], [1], [1, 1], [2]))
            .Should().Throw<ArgumentException>().WithParameterName("galleryCameras");
    }
}
