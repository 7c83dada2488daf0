using DeepRetrieval.Imaging.Features;

namespace DeepRetrieval.Imaging.Tests.Features;

/// <summary>Mikolajczyk's repeatability protocol: hand cases, then our SIFT against OpenCV's on the fixture homographies.</summary>
public class FeatureEvaluationTests
{
    private static LocalFeatures One(float x, float y, float size, params float[] descriptor) =>
        new([new Keypoint(x, y, size, 0, 0, 0)], descriptor.Length == 0 ? [1f, 0f] : descriptor, 2);

    [Fact]
    public void IdenticalFeatures_UnderTheIdentity_AreFullyRepeatable()
    {
        LocalFeatures features = SiftFixtures.OpenCv("coffee");
        RepeatabilityResult result = FeatureEvaluation.Evaluate(features, (320, 213), features, (320, 213), Homography.Identity);
        result.Repeatability.Should().BeApproximately(1.0, 0.02);
        result.CommonRegions1.Should().Be(result.CommonRegions2);
        result.MatchingScore.Should().BeGreaterThan(0.95);
    }

    [Theory]
    // Concentric circles of radii r and s·r overlap by s² (s < 1): error 1 − s². 0.8 → 0.36 < 0.4 corresponds; 0.75 → 0.44 does not.
    [InlineData(0.8f, 1)]
    [InlineData(0.75f, 0)]
    public void ConcentricRegions_CorrespondWhenTheOverlapErrorIsBelowFortyPercent(float ratio, int expected)
    {
        RepeatabilityResult result = FeatureEvaluation.Evaluate(One(50, 50, 20), (100, 100), One(50, 50, 20 * ratio), (100, 100), Homography.Identity);
        result.Correspondences.Should().Be(expected);
        result.Repeatability.Should().Be(expected);
        result.CorrectMatches.Should().Be(expected);
    }

    [Fact]
    public void RegionsOutsideTheCommonPart_AreNotCounted()
    {
        // Shifting by 60 pixels: image 1's region at x = 80 maps to x = 140, outside a 100-pixel image 2.
        var shift = Homography.Affine(1, 0, 60, 0, 1, 0);
        RepeatabilityResult result = FeatureEvaluation.Evaluate(One(80, 50, 10), (100, 100), One(30, 50, 10), (100, 100), shift);
        result.CommonRegions1.Should().Be(0);
        result.Repeatability.Should().Be(0);
    }

    [Theory]
    [InlineData("chelsea")]
    [InlineData("coffee")]
    public void OurSift_IsAtLeastAsRepeatableAndMatchableAsOpenCvs(string name)
    {
        SiftFixtures.Image a = SiftFixtures.Load(name), b = SiftFixtures.Load(name + "_warp");
        Homography h = SiftFixtures.HomographyOf(name);
        var sift = new Sift();
        RepeatabilityResult ours = FeatureEvaluation.Evaluate(sift.DetectAndCompute(a.Pixels, a.Width, a.Height), (a.Width, a.Height),
            sift.DetectAndCompute(b.Pixels, b.Width, b.Height), (b.Width, b.Height), h);
        RepeatabilityResult opencv = FeatureEvaluation.Evaluate(SiftFixtures.OpenCv(name), (a.Width, a.Height), SiftFixtures.OpenCv(name + "_warp"), (b.Width, b.Height), h);
        opencv.Repeatability.Should().BeGreaterThan(0.2, "the protocol finds correspondences under a moderate homography");
        // Our keypoints and descriptors are OpenCV's, so both scores come out equal (at least OpenCV's).
        ours.Repeatability.Should().BeGreaterThanOrEqualTo(opencv.Repeatability - 1e-9);
        ours.MatchingScore.Should().BeGreaterThanOrEqualTo(opencv.MatchingScore - 1e-9);
    }

    [Fact]
    public void BadArguments_AreRejected()
    {
        FluentActions.Invoking(() => FeatureEvaluation.Evaluate(One(1, 1, 1), (0, 10), One(1, 1, 1), (10, 10), Homography.Identity))
            .Should().Throw<ArgumentException>().WithMessage("*positive*");
        FluentActions.Invoking(() => FeatureEvaluation.Evaluate(One(1, 1, 1), (10, 10), One(1, 1, 1), (10, 10), new Homography(0, 0, 0, 0, 0, 0, 0, 0, 0)))
            .Should().Throw<InvalidOperationException>();
        FluentActions.Invoking(() => FeatureEvaluation.Evaluate(One(1, 1, 1), (10, 10), One(1, 1, 1), (10, 10), Homography.Identity, new RepeatabilityOptions { MaxOverlapError = 1 }))
            .Should().Throw<ArgumentOutOfRangeException>();
    }
}
