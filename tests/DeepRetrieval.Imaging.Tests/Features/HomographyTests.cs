using DeepRetrieval.Imaging.Features;

namespace DeepRetrieval.Imaging.Tests.Features;

public class HomographyTests
{
    private static readonly Homography H = new(0.9, -0.2, 30, 0.15, 1.1, -12, 4e-4, -3e-4, 1.05);

    [Fact]
    public void Inverse_UndoesTheTransform()
    {
        var (x, y) = H.Transform(123.4, 56.7);
        var (bx, by) = H.Inverse().Transform(x, y);
        bx.Should().BeApproximately(123.4, 1e-9);
        by.Should().BeApproximately(56.7, 1e-9);
        (H * H.Inverse()).Normalized().Should().Match<Homography>(p =>
            Math.Abs(p.M11 - 1) < 1e-12 && Math.Abs(p.M12) < 1e-12 && Math.Abs(p.M22 - 1) < 1e-12 && Math.Abs(p.M13) < 1e-9);
    }

    [Fact]
    public void Composition_AppliesTheRightOperandFirst()
    {
        var shift = Homography.Affine(1, 0, 10, 0, 1, 0);
        var scale = Homography.Affine(2, 0, 0, 0, 2, 0);
        (scale * shift).Transform(1, 1).Should().Be((22.0, 2.0));
        (shift * scale).Transform(1, 1).Should().Be((12.0, 2.0));
    }

    [Fact]
    public void Jacobian_MatchesFiniteDifferences()
    {
        const double x = 80, y = 45, step = 1e-4;
        var (a, b, c, d) = H.Jacobian(x, y);
        var (px, py) = H.Transform(x + step, y);
        var (mx, my) = H.Transform(x - step, y);
        a.Should().BeApproximately((px - mx) / (2 * step), 1e-6);
        c.Should().BeApproximately((py - my) / (2 * step), 1e-6);
        (px, py) = H.Transform(x, y + step);
        (mx, my) = H.Transform(x, y - step);
        b.Should().BeApproximately((px - mx) / (2 * step), 1e-6);
        d.Should().BeApproximately((py - my) / (2 * step), 1e-6);
    }

    [Fact]
    public void SingularAndBadInput_AreRejected()
    {
        FluentActions.Invoking(() => new Homography(1, 2, 3, 2, 4, 6, 0, 0, 0).Inverse()).Should().Throw<InvalidOperationException>();
        FluentActions.Invoking(() => Homography.FromRowMajor([1, 2, 3])).Should().Throw<ArgumentException>().WithMessage("*9 values*");
        new Homography(1, 0, 0, 0, 1, 0, 1, 0, 0).Transform(0, 5).Should().Be((double.PositiveInfinity, double.PositiveInfinity));
    }
}
