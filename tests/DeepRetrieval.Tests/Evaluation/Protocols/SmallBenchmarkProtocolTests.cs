using DeepRetrieval.Evaluation.Protocols;
using DeepRetrieval.Tests.Data;

namespace DeepRetrieval.Tests.Evaluation.Protocols;

public class SmallBenchmarkProtocolTests
{
    [Fact]
    public void Holidays_TakesMultiplesOfHundredAsQueries_AndSkipsTheQueryItself()
    {
        string[] names = ["100000.jpg", "100001.jpg", "100002.jpg", "100100.jpg", "100101.jpg"];
        (int[] queries, QueryJudgments[] judgments) = HolidaysProtocol.Judgments(names);

        queries.Should().Equal(0, 3);
        judgments[0].Positives.Should().Equal(1, 2);
        judgments[0].Junk.Should().Equal(0);

        // Query 100000 ranks itself, 100100, 100001, 100002: after skipping itself the positives are at 1 and 2,
        // AP = ½·(0/1 + 1/2)/2 + ½·(1/2 + 2/3)/2 = 5/12. Query 100100 ranks 100101 first: AP 1. mAP = 17/24.
        InstanceRetrievalResult result = HolidaysProtocol.Evaluate([0, 3, 1, 2, 3, 4, 0, 1], 4, names);
        result.AveragePrecisions.Should().Equal([5.0 / 12, 1.0], (a, b) => Math.Abs(a - b) < 1e-12);
        result.MeanAveragePrecision.Should().BeApproximately(17.0 / 24, 1e-12);
    }

    [Fact]
    public void Holidays_RejectsNamesThatAreNotImageNumbers() =>
        FluentActions.Invoking(() => HolidaysProtocol.Judgments(["holiday.jpg"])).Should().Throw<ArgumentException>().WithParameterName("imageNames");

    [Fact]
    public void UkBench_CountsGroupImagesInTheTopFour()
    {
        // Query 0 (group 0): top four 0, 1, 5, 2 → 3 of its group; query 6 (group 1): 6, 4, 7, 5 → 4. N-S = 3.5.
        UkBenchProtocol.NsScore([0, 1, 5, 2, 9, 6, 4, 7, 5, 0], 5, [0, 6]).Should().Be(3.5);
        FluentActions.Invoking(() => UkBenchProtocol.NsScore([0, 1, 2], 3, [0])).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("width");
    }

    [Fact]
    public void OxfordParis_ReadsTheGroundTruthFiles_AndStripsOxfordsPrefix()
    {
        using var directory = new TempDirectory();
        File.WriteAllText(Path.Combine(directory.Path, "all_souls_1_query.txt"), "oxc1_all_souls_000013 136.5 34.1 648.5 955.0\n");
        File.WriteAllText(Path.Combine(directory.Path, "all_souls_1_good.txt"), "all_souls_000013\nall_souls_000026\n");
        File.WriteAllText(Path.Combine(directory.Path, "all_souls_1_ok.txt"), "all_souls_000040\n");
        File.WriteAllText(Path.Combine(directory.Path, "all_souls_1_junk.txt"), "christ_church_000001\n");
        string[] images = ["all_souls_000013", "all_souls_000026", "all_souls_000040", "christ_church_000001", "magdalen_000001"];

        OxfordParisGroundTruth truth = OxfordParisGroundTruth.Load(directory.Path, images);

        truth.Queries.Should().ContainSingle().Which.Name.Should().Be("all_souls_000013");
        truth.Queries[0].BoundingBox.Should().Be(new QueryBoundingBox(136.5, 34.1, 648.5, 955.0));
        QueryJudgments judgments = truth.Judgments()[0];
        judgments.Positives.Should().Equal(0, 1, 2);
        judgments.Junk.Should().Equal(3);

        File.WriteAllText(Path.Combine(directory.Path, "all_souls_1_ok.txt"), "unknown_000001\n");
        FluentActions.Invoking(() => OxfordParisGroundTruth.Load(directory.Path, images)).Should().Throw<InvalidDataException>().WithMessage("*unknown_000001*");
    }
}
