using System.Text.Json;
using DeepRetrieval.Evaluation.Protocols;

namespace DeepRetrieval.Tests.Evaluation.Protocols;

public class GoogleLandmarksMetricsTests
{
    private static StreamReader Open(string name) => new(ReferenceFixture.PathOf(name));

    // Expected values: DELF's dataset_file_io.py and metrics.py run on the same CSV files by Reference/benchmark_metrics_reference.py.
    [Fact]
    public void GlobalAveragePrecision_MatchesDelf_OnTheOfficialCsvFormat()
    {
        JsonElement expected = ReferenceFixture.ReadJson("gldv2_expected.json");
        using StreamReader solutionFile = Open("gldv2_recognition_solution.csv");
        GoogleLandmarksSolution<long> solution = GoogleLandmarksCsv.ReadRecognitionSolution(solutionFile);
        using StreamReader predictionFile = Open("gldv2_recognition_predictions.csv");
        GoogleLandmarksPredictions<LandmarkPrediction> predictions = GoogleLandmarksCsv.ReadRecognitionPredictions(predictionFile, solution);

        predictions.Public.Should().HaveCount(expected.GetProperty("recognitionPublicCount").GetInt32());
        GoogleLandmarksMetrics.GlobalAveragePrecision(predictions.Public, solution.Public)
            .Should().BeApproximately(expected.GetProperty("gapPublic").GetDouble(), 1e-12);
        GoogleLandmarksMetrics.GlobalAveragePrecision(predictions.Private, solution.Private)
            .Should().BeApproximately(expected.GetProperty("gapPrivate").GetDouble(), 1e-12);
        GoogleLandmarksMetrics.GlobalAveragePrecision(predictions.Public, solution.Public, ignoreNonGroundTruthImages: true)
            .Should().BeApproximately(expected.GetProperty("gapPublicIgnoringNonLandmarks").GetDouble(), 1e-12);
    }

    [Fact]
    public void MeanAveragePrecision_MatchesDelf_OnTheOfficialCsvFormat()
    {
        JsonElement expected = ReferenceFixture.ReadJson("gldv2_expected.json");
        using StreamReader solutionFile = Open("gldv2_retrieval_solution.csv");
        GoogleLandmarksSolution<string> solution = GoogleLandmarksCsv.ReadRetrievalSolution(solutionFile);
        using StreamReader predictionFile = Open("gldv2_retrieval_predictions.csv");
        var predictions = GoogleLandmarksCsv.ReadRetrievalPredictions(predictionFile, solution);

        solution.Ignored.Should().HaveCount(6);
        GoogleLandmarksMetrics.MeanAveragePrecision(predictions.Public, solution.Public)
            .Should().BeApproximately(expected.GetProperty("mapPublic").GetDouble(), 1e-12);
        GoogleLandmarksMetrics.MeanAveragePrecision(predictions.Private, solution.Private)
            .Should().BeApproximately(expected.GetProperty("mapPrivate").GetDouble(), 1e-12);
        GoogleLandmarksMetrics.MeanAveragePrecision(predictions.Public, solution.Public, maxPredictions: 10)
            .Should().BeApproximately(expected.GetProperty("mapPublicAt10").GetDouble(), 1e-12);
    }

    [Fact]
    public void GlobalAveragePrecision_WorksByHand()
    {
        // Sorted: b (0.9, right), a (0.8, wrong), c (0.8, right; ties by id, so after a). Precision is taken at each
        // right one: 1/1 and 2/3. Three images have landmarks (d has none): GAP = (1 + 2/3) / 3 = 5/9.
        var solution = new Dictionary<string, IReadOnlyList<long>> { ["a"] = [1], ["b"] = [2], ["c"] = [3, 4], ["d"] = [] };
        var predictions = new Dictionary<string, LandmarkPrediction> { ["c"] = new(4, 0.8), ["a"] = new(7, 0.8), ["b"] = new(2, 0.9) };
        GoogleLandmarksMetrics.GlobalAveragePrecision(predictions, solution).Should().BeApproximately(5.0 / 9, 1e-12);
    }

    [Fact]
    public void MeanAveragePrecision_SkipsRepeatsButKeepsTheirRank()
    {
        // x at 1 (right), x again at 2 (skipped), y at 3 (right): AP = (1/1 + 2/3) / min(2, 100); two solution images.
        var solution = new Dictionary<string, IReadOnlyList<string>> { ["q"] = ["x", "y"], ["r"] = ["z"] };
        var predictions = new Dictionary<string, IReadOnlyList<string>> { ["q"] = ["x", "x", "y"] };
        GoogleLandmarksMetrics.MeanAveragePrecision(predictions, solution).Should().BeApproximately((1 + 2.0 / 3) / 2 / 2, 1e-12);
    }

    [Fact]
    public void Readers_RejectRepeatedUnknownAndMalformedLines()
    {
        var solution = GoogleLandmarksCsv.ReadRecognitionSolution(new StringReader("id,landmarks,Usage\na,1,Public\nb,,Private\nc,,Ignored\n"));
        FluentActions.Invoking(() => GoogleLandmarksCsv.ReadRecognitionPredictions(new StringReader("id,landmarks\na,1 0.5\na,1 0.4\n"), solution))
            .Should().Throw<InvalidDataException>().WithMessage("*repeated*");
        FluentActions.Invoking(() => GoogleLandmarksCsv.ReadRecognitionPredictions(new StringReader("id,landmarks\nz,1 0.5\n"), solution))
            .Should().Throw<InvalidDataException>().WithMessage("*not in the solution*");
        FluentActions.Invoking(() => GoogleLandmarksCsv.ReadRecognitionPredictions(new StringReader("id,landmarks\na,1 0.5 3\n"), solution))
            .Should().Throw<InvalidDataException>().WithMessage("*2 elements*");
        FluentActions.Invoking(() => GoogleLandmarksCsv.ReadRecognitionSolution(new StringReader("id,landmarks,Usage\na,1,Secret\n")))
            .Should().Throw<InvalidDataException>().WithMessage("*Usage*");
        var predictions = GoogleLandmarksCsv.ReadRecognitionPredictions(new StringReader("id,landmarks\nc,1 0.9\nb,\n"), solution);
        predictions.Public.Should().BeEmpty("the ignored image and the empty prediction are skipped");
        predictions.Private.Should().BeEmpty();
    }
}
