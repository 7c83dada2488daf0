using System.Text.Json;
using DeepRetrieval.Evaluation.Protocols;

namespace DeepRetrieval.Tests.Evaluation.Protocols;

public class CopyDetectionMetricsTests
{
    // Expected values: isc2021's isc/io.py and isc/metrics.py evaluate, run by Reference/benchmark_metrics_reference.py.
    [Fact]
    public void Evaluate_MatchesIsc2021_OnTheOfficialCsvFormat()
    {
        JsonElement expected = ReferenceFixture.ReadJson("isc_expected.json");
        using var truthFile = new StreamReader(ReferenceFixture.PathOf("isc_ground_truth.csv"));
        using var predictionFile = new StreamReader(ReferenceFixture.PathOf("isc_predictions.csv"));

        CopyDetectionResult result = CopyDetectionMetrics.Evaluate(CopyDetectionMetrics.ReadGroundTruth(truthFile), CopyDetectionMetrics.ReadPredictions(predictionFile));

        result.AveragePrecision.Should().BeApproximately(expected.GetProperty("averagePrecision").GetDouble(), 1e-12);
        result.RecallAtPrecision90.Should().BeApproximately(expected.GetProperty("recallAtP90").GetDouble(), 1e-12);
        result.ThresholdAtPrecision90.Should().Be(expected.GetProperty("thresholdAtP90").GetDouble());
        result.RecallAtRank1.Should().BeApproximately(expected.GetProperty("recallAtRank1").GetDouble(), 1e-12);
        result.RecallAtRank10.Should().BeApproximately(expected.GetProperty("recallAtRank10").GetDouble(), 1e-12);
    }

    [Fact]
    public void Evaluate_PutsWrongPredictionsFirstAmongEqualScores()
    {
        // Two true pairs. Predictions at equal score 0.5: one right, one wrong → worst order wrong, right.
        // Precision/recall: (0/1, 0), (1/2, 1/2); then a right one at 0.4: (2/3, 1). μAP = ½·½ + ½·⅔ = 7/12.
        CopyDetectionResult result = CopyDetectionMetrics.Evaluate(
            [new("q1", "r1"), new("q2", "r2")],
            [new("q1", "r1", 0.5), new("q1", "r9", 0.5), new("q2", "r2", 0.4)]);

        result.AveragePrecision.Should().BeApproximately(7.0 / 12, 1e-12);
        result.RecallAtPrecision90.Should().BeNull("no operating point reaches precision 0.9");
        result.RecallAtRank1.Should().Be(0.5, "q1's true reference ties with a wrong one, so it ranks second; q2's ranks first");
    }

    [Fact]
    public void Evaluate_RejectsDuplicatePredictionsAndNaNScores()
    {
        FluentActions.Invoking(() => CopyDetectionMetrics.Evaluate([new("q", "r")], [new("q", "r", 1), new("q", "r", 0.5)]))
            .Should().Throw<ArgumentException>().WithParameterName("predictions").WithMessage("*more than once*");
        FluentActions.Invoking(() => CopyDetectionMetrics.Evaluate([new("q", "r")], [new("q", "r", double.NaN)]))
            .Should().Throw<ArgumentException>().WithParameterName("predictions");
        FluentActions.Invoking(() => CopyDetectionMetrics.ReadPredictions(new StringReader("q,r\n")))
            .Should().Throw<InvalidDataException>();
    }
}
