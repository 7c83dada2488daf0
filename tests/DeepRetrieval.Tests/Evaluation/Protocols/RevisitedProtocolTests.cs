using System.Text.Json;
using DeepRetrieval.Evaluation.Protocols;

namespace DeepRetrieval.Tests.Evaluation.Protocols;

public class RevisitedProtocolTests
{
    public static TheoryData<int, RevisitedSetting> Cases()
    {
        var data = new TheoryData<int, RevisitedSetting>();
        for (int c = 0; c < 3; c++)
            foreach (RevisitedSetting setting in Enum.GetValues<RevisitedSetting>()) data.Add(c, setting);
        return data;
    }

    // Expected values: revisitop's python/evaluate.py compute_map, run by Reference/revisitop_reference.py.
    [Theory]
    [MemberData(nameof(Cases))]
    public void Evaluate_MatchesRevisitopsComputeMap(int index, RevisitedSetting setting)
    {
        JsonElement c = ReferenceFixture.ReadJson("revisitop_cases.json")[index];
        int n = c.GetProperty("databaseSize").GetInt32();
        long[] ranks = c.GetProperty("ranks").Longs();
        var queries = c.GetProperty("gnd").EnumerateArray().Select((g, q) => new RevisitedQuery($"q{q}", default,
            g.GetProperty("easy").Ints(), g.GetProperty("hard").Ints(), g.GetProperty("junk").Ints())).ToArray();
        var truth = new RevisitedGroundTruth(Enumerable.Range(0, n).Select(i => $"im{i}").ToArray(), queries);
        JsonElement expected = c.GetProperty("results").GetProperty(setting.ToString());

        InstanceRetrievalResult result = RevisitedProtocol.Evaluate(ranks, n, truth, setting);

        result.MeanAveragePrecision.Should().BeApproximately(expected.GetProperty("map").GetDouble(), 1e-12);
        double?[] aps = expected.GetProperty("aps").EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Null ? (double?)null : e.GetDouble()).ToArray();
        for (int q = 0; q < aps.Length; q++)
        {
            if (aps[q] is double ap) result.AveragePrecisions[q].Should().BeApproximately(ap, 1e-12);
            else result.AveragePrecisions[q].Should().Be(double.NaN, "a query without positives is NaN, as in compute_map");
        }

        double[] mpr = expected.GetProperty("mpr").Doubles();
        result.MeanPrecisionAtK[1].Should().BeApproximately(mpr[0], 1e-12);
        result.MeanPrecisionAtK[5].Should().BeApproximately(mpr[1], 1e-12);
        result.MeanPrecisionAtK[10].Should().BeApproximately(mpr[2], 1e-12);
        result.EmptyQueryCount.Should().Be(aps.Count(a => a is null));
    }

    [Fact]
    public void ComputeMap_WorksTheTrapezoidsAndTheJunkShiftByHand()
    {
        // Ranking 7, 3, 9, 1, 5 with positives {3, 1} and junk {9}: 3 sits at position 1; 1 at position 3, one junk
        // earlier, so 2. Trapezoids of width ½: (0/1 + 1/2)/2 and (1/2 + 2/3)/2, so AP = ½·(0.25 + 0.583333) = 5/12.
        // mP@1: cut min(3, 1) = 1, no positive at 1 → 0; mP@5: cut min(3, 5) = 3, two positives → 2/3.
        InstanceRetrievalResult result = InstanceRetrievalMetrics.ComputeMap([7, 3, 9, 1, 5], 5, [new QueryJudgments([3, 1], [9])], [1, 5]);

        result.MeanAveragePrecision.Should().BeApproximately(5.0 / 12, 1e-12);
        result.MeanPrecisionAtK[1].Should().Be(0);
        result.MeanPrecisionAtK[5].Should().BeApproximately(2.0 / 3, 1e-12);
    }

    [Fact]
    public void ComputeMap_IsNaN_WhenNoQueryHasPositives()
    {
        InstanceRetrievalResult result = InstanceRetrievalMetrics.ComputeMap([0, 1, 2], 3, [new QueryJudgments([], [0, 1, 2])], [1]);
        result.MeanAveragePrecision.Should().Be(double.NaN);
        result.EmptyQueryCount.Should().Be(1);
    }

    [Fact]
    public void ComputeMap_CountsPositivesBeyondATruncatedListAsNotFound()
    {
        // One of two positives retrieved, at the top: AP = ½ · (1 + 1)/2 = 0.5.
        InstanceRetrievalMetrics.ComputeMap([4, 0], 2, [new QueryJudgments([4, 9])]).MeanAveragePrecision.Should().Be(0.5);
    }

    [Fact]
    public void ComputeMap_RejectsBadShapesAndPositions()
    {
        FluentActions.Invoking(() => InstanceRetrievalMetrics.ComputeMap([0, 1, 2], 2, [new QueryJudgments([0])]))
            .Should().Throw<ArgumentException>().WithParameterName("ranks");
        FluentActions.Invoking(() => InstanceRetrievalMetrics.ComputeMap([0, 1], 2, [new QueryJudgments([0]), new QueryJudgments([1])]))
            .Should().Throw<ArgumentException>().WithParameterName("judgments");
        FluentActions.Invoking(() => InstanceRetrievalMetrics.ComputeMap([0, -1], 2, [new QueryJudgments([0])]))
            .Should().Throw<ArgumentException>().WithParameterName("ranks");
        FluentActions.Invoking(() => InstanceRetrievalMetrics.ComputeMap([0, 1], 2, [new QueryJudgments([0])], [0]))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("kappas");
    }

    [Theory]
    [InlineData("gnd_lists.pkl")]
    [InlineData("gnd_numpy.pkl")]
    [InlineData("gnd_numpy_protocol2.pkl")]
    public void Read_ParsesTheOfficialPickleLayout_WithListsOrNumpyArrays(string file)
    {
        RevisitedGroundTruth truth = RevisitedGroundTruth.Read(ReferenceFixture.PathOf(file));

        truth.ImageNames.Should().Equal("all_souls_000001", "all_souls_000002", "radcliffe_camera_000003", "magdalen_000004");
        truth.Queries.Select(q => q.Name).Should().Equal("all_souls_000013", "radcliffe_camera_000519");
        truth.Queries[0].BoundingBox.Should().Be(new QueryBoundingBox(136.5, 34.1, 648.5, 955.0));
        truth.Queries[0].Easy.Should().Equal(0);
        truth.Queries[0].Hard.Should().Equal(1);
        truth.Queries[0].Junk.Should().Equal(3);
        truth.Queries[1].Easy.Should().BeEmpty();
        truth.Queries[1].Hard.Should().Equal(2);
        truth.JudgmentsFor(RevisitedSetting.Easy)[0].Junk.Should().BeEquivalentTo([3, 1]);
    }

    [Fact]
    public void Read_RejectsPicklesThatCallOtherGlobals()
    {
        // protocol 2: GLOBAL 'os system', the string 'echo', TUPLE1, REDUCE, STOP.
        byte[] hostile = [0x80, 2, (byte)'c', .. "os\nsystem\n"u8, (byte)'X', 4, 0, 0, 0, .. "echo"u8, 0x85, (byte)'R', (byte)'.'];
        FluentActions.Invoking(() => RevisitedGroundTruth.Read(new MemoryStream(hostile), "hostile.pkl"))
            .Should().Throw<InvalidDataException>().WithMessage("*os.system*not allowed*");
    }

    [Fact]
    public void Read_RejectsTruncatedOrMisshapenPickles()
    {
        byte[] good = File.ReadAllBytes(ReferenceFixture.PathOf("gnd_lists.pkl"));
        FluentActions.Invoking(() => RevisitedGroundTruth.Read(new MemoryStream(good[..^10]), "cut.pkl")).Should().Throw<InvalidDataException>();
        // protocol 2: an empty list, STOP.
        FluentActions.Invoking(() => RevisitedGroundTruth.Read(new MemoryStream([0x80, 2, (byte)']', (byte)'.']), "list.pkl"))
            .Should().Throw<InvalidDataException>().WithMessage("*not hold a dict*");
        // A length prefix far past the end must not allocate: BINUNICODE of 4 GB.
        FluentActions.Invoking(() => RevisitedGroundTruth.Read(new MemoryStream([0x80, 2, (byte)'X', 0xFF, 0xFF, 0xFF, 0xFF, (byte)'.']), "long.pkl"))
            .Should().Throw<InvalidDataException>().WithMessage("*past the end*");
    }

    [Fact]
    public void ToPixelCrop_RoundsAsPillowsCropDoes()
    {
        // Expected crops: PIL Image.crop on the boxes, Reference/revisitop_reference.py (crops.json).
        foreach (JsonElement item in ReferenceFixture.ReadJson("crops.json").EnumerateArray())
        {
            double[] box = item.GetProperty("box").Doubles();
            int[] crop = item.GetProperty("crop").Ints();
            new QueryBoundingBox(box[0], box[1], box[2], box[3]).ToPixelCrop().Should().Be((crop[0], crop[1], crop[2], crop[3]));
        }
    }

    [Fact]
    public void Constructor_RejectsPositionsOutsideTheDatabase()
    {
        FluentActions.Invoking(() => new RevisitedGroundTruth(["a", "b"], [new RevisitedQuery("q", default, [2], [], [])]))
            .Should().Throw<ArgumentException>().WithParameterName("queries");
    }
}
