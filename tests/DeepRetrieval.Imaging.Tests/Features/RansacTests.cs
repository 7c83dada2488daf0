using System.Numerics;
using DeepRetrieval.Imaging.Features;

namespace DeepRetrieval.Imaging.Tests.Features;

public class RansacTests
{
    private static readonly Homography Truth = new(0.9, -0.2, 30, 0.15, 1.1, -12, 4e-4, -3e-4, 1);

    // 60 correspondences: the first 36 exact under Truth, the last 24 random outliers (seeded).
    private static (Vector2[] Source, Vector2[] Destination) Correspondences(Homography h, int inliers = 36, int outliers = 24)
    {
        var random = new Random(11);
        var source = new List<Vector2>();
        var destination = new List<Vector2>();
        for (int i = 0; i < inliers + outliers; i++)
        {
            var p = new Vector2((float)(random.NextDouble() * 400), (float)(random.NextDouble() * 300));
            source.Add(p);
            destination.Add(i < inliers ? h.Transform(p) : new Vector2((float)(random.NextDouble() * 400), (float)(random.NextDouble() * 300)));
        }
        return ([.. source], [.. destination]);
    }

    private static double CornerError(Homography a, Homography b)
    {
        double worst = 0;
        foreach (var (x, y) in new[] { (0.0, 0.0), (400.0, 0.0), (0.0, 300.0), (400.0, 300.0) })
        {
            var (ax, ay) = a.Transform(x, y);
            var (bx, by) = b.Transform(x, y);
            worst = Math.Max(worst, Math.Sqrt((ax - bx) * (ax - bx) + (ay - by) * (ay - by)));
        }
        return worst;
    }

    [Fact]
    public void Fit_RecoversAHomography_WithFortyPercentOutliers()
    {
        var (source, destination) = Correspondences(Truth);
        GeometricVerification fit = Ransac.Fit(source, destination, new RansacOptions { Seed = 3 });
        fit.Success.Should().BeTrue();
        fit.InlierCount.Should().Be(36);
        fit.Inliers.Take(36).Should().OnlyContain(b => b);
        fit.Inliers.Skip(36).Should().OnlyContain(b => !b);
        CornerError(fit.Transform, Truth).Should().BeLessThan(0.01);
        fit.Score.Should().BeInRange(35.9, 36.0);
        fit.Transform.M33.Should().Be(1);
    }

    [Fact]
    public void Fit_RecoversAnAffineTransform()
    {
        var affine = Homography.Affine(1.2, 0.3, -5, -0.25, 0.9, 40);
        var (source, destination) = Correspondences(affine, 20, 20);
        GeometricVerification fit = Ransac.Fit(source, destination, new RansacOptions { Model = GeometricModel.Affine, Seed = 1 });
        fit.InlierCount.Should().Be(20);
        fit.Transform.IsAffine.Should().BeTrue();
        CornerError(fit.Transform, affine).Should().BeLessThan(0.01);
    }

    [Fact]
    public void Fit_IsDeterministic_ForAGivenSeed()
    {
        var (source, destination) = Correspondences(Truth, 15, 45);
        var options = new RansacOptions { Seed = 42, Refine = false, MaxIterations = 50 };
        GeometricVerification a = Ransac.Fit(source, destination, options), b = Ransac.Fit(source, destination, options);
        a.Transform.Should().Be(b.Transform);
        a.Iterations.Should().Be(b.Iterations);
        a.Inliers.Should().Equal(b.Inliers);
    }

    [Fact]
    public void Fit_Fails_WithTooFewOrDegenerateCorrespondences()
    {
        Ransac.Fit([new(0, 0), new(1, 0), new(0, 1)], [new(0, 0), new(1, 0), new(0, 1)]).Success.Should().BeFalse();
        Vector2[] line = Enumerable.Range(0, 10).Select(i => new Vector2(i, 2 * i)).ToArray();
        GeometricVerification collinear = Ransac.Fit(line, line);
        collinear.Success.Should().BeFalse();
        collinear.Inliers.Should().HaveCount(10).And.OnlyContain(b => !b);
    }

    [Fact]
    public void FitLeastSquares_ThroughFourExactPoints_IsTheTrueHomography()
    {
        Vector2[] source = [new(10, 20), new(300, 15), new(290, 250), new(20, 240)];
        Vector2[] destination = source.Select(Truth.Transform).ToArray();
        Homography h = Ransac.FitLeastSquares(source, destination)!.Value;
        CornerError(h, Truth).Should().BeLessThan(1e-3);
        Ransac.FitLeastSquares([new(0, 0), new(1, 1), new(2, 2), new(3, 3)], [new(0, 0), new(1, 1), new(2, 2), new(3, 3)]).Should().BeNull();
        FluentActions.Invoking(() => Ransac.FitLeastSquares(source[..2], destination[..2], GeometricModel.Affine)).Should().Throw<ArgumentException>().WithMessage("*at least 3*");
    }

    [Fact]
    public void Fit_OnSiftMatchesOfARealPhoto_RecoversTheKnownHomography()
    {
        SiftFixtures.Image a = SiftFixtures.Load("chelsea"), b = SiftFixtures.Load("chelsea_warp");
        var sift = new Sift();
        LocalFeatures first = sift.DetectAndCompute(a.Pixels, a.Width, a.Height), second = sift.DetectAndCompute(b.Pixels, b.Width, b.Height);
        FeatureMatch[] matches = DescriptorMatcher.Match(first, second);
        GeometricVerification fit = Ransac.Fit(first, second, matches, new RansacOptions { ReprojectionThreshold = 2, Seed = 7 });
        fit.InlierCount.Should().BeGreaterThan(matches.Length / 2);
        CornerError(fit.Transform, SiftFixtures.HomographyOf("chelsea")).Should().BeLessThan(2.0);
    }

    [Fact]
    public void BadArguments_AreRejected()
    {
        FluentActions.Invoking(() => Ransac.Fit([new(0, 0)], [])).Should().Throw<ArgumentException>().WithMessage("*1 source points but 0*");
        FluentActions.Invoking(() => Ransac.Fit([new(float.NaN, 0)], [new(0, 0)])).Should().Throw<ArgumentException>().WithMessage("*non-finite*");
        FluentActions.Invoking(() => Ransac.Fit([], [], new RansacOptions { Confidence = 1 })).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => Ransac.Fit([new Keypoint(0, 0, 1, 0, 0, 0)], [], [new FeatureMatch(0, 3, 0)])).Should().Throw<ArgumentException>().WithMessage("*outside*");
    }
}
