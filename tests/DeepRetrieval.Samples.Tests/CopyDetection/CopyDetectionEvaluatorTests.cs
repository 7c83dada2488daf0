using DeepRetrieval.Samples.CopyDetection.Copies;
using DeepRetrieval.Samples.CopyDetection.Evaluation;
using DeepRetrieval.Samples.CopyDetection.Photos;

namespace DeepRetrieval.Samples.Tests.CopyDetection;

/// <summary>The metrics on a case worked out by hand (two copies, three references, one tie).</summary>
public sealed class CopyDetectionEvaluatorTests
{
    [Fact]
    public void Evaluate_MatchesHandComputedMetrics_AndBreaksTiesAgainstTheMethod()
    {
        Photo a = new("a", "a.jpg", 1), b = new("b", "b.jpg", 1), c = new("c", "c.jpg", 1);
        CopyItem[] copies =
        [
            new("a/flip", "a-flip.jpg", a, CopyTransforms.Get("flip")),
            new("b/jpeg-10", "b-jpeg.jpg", b, CopyTransforms.Get("jpeg-10")),
        ];
        // Copy 1 scores its original a level with the distractor c: it counts as rank 2. Copy 2 ranks b first.
        float[][] scores = [[0.9f, 0.5f, 0.9f], [0.1f, 0.8f, 0.3f]];

        MethodResult result = CopyDetectionEvaluator.Evaluate("m", scores, copies, [a, b, c], ["flip", "jpeg-10"], 1.5);

        result.RecallAt1.Should().Be(0.5);
        result.MeanAveragePrecision.Should().BeApproximately((1 / 2.0 + 1) / 2, 1e-12);
        // ISC list: (1,c) 0.9 wrong first among the tie, (1,a) 0.9 right: precision 1/2 at recall 1/2; (2,b) 0.8: 2/3 at recall 1.
        result.MicroAveragePrecision.Should().BeApproximately(0.5 * 0.5 + 0.5 * 2 / 3.0, 1e-12);
        result.RecallAtPrecision90.Should().BeNull();
        result.RecallAt1ByTransform.Should().Equal(new KeyValuePair<string, double>("flip", 0), new KeyValuePair<string, double>("jpeg-10", 1));
        result.Curve.Should().Equal(new PrecisionRecallPoint(0.5, 0.5), new PrecisionRecallPoint(1, 2 / 3.0));
        result.MillisecondsPerImage.Should().Be(1.5);
    }

    [Fact]
    public void Evaluate_RejectsARowOfTheWrongWidth()
    {
        Photo a = new("a", "a.jpg", 1);
        CopyItem[] copies = [new("a/flip", "a-flip.jpg", a, CopyTransforms.Get("flip"))];
        var act = () => CopyDetectionEvaluator.Evaluate("m", [[0.1f, 0.2f]], copies, [a], ["flip"], 0);
        act.Should().Throw<ArgumentException>().WithMessage("*2 values for 1 references*");
    }
}
