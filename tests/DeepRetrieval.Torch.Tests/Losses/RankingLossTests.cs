using DeepRetrieval.Torch.Distances;
using DeepRetrieval.Torch.Losses;
using DeepRetrieval.Torch.Miners;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Losses;

public class RankingLossTests
{
    // The fixed batch used for the PML and reference-implementation comparisons (10 × 3, labels 0 0 0 1 1 1 2 2 3 4).
    private static readonly double[] FixedBatch =
        [0.07, 0.05, 1.84, 1.37, 1.12, 1.86, 0.6, 0.74, -0.81, -0.8, 0.77, 0.52, 1.96, 0.45, -0.1, -0.25, -1.27, 1.28, -0.56, -0.34, 0.11, 0.16, -1.23, 0.35, 0.67, -0.94, 0.73, 0.04, 0.64, 0.32];

    private static Tensor FixedEmbeddings => tensor(FixedBatch, [10, 3], ScalarType.Float64);

    private static Tensor FixedLabels => tensor(new long[] { 0, 0, 0, 1, 1, 1, 2, 2, 3, 4 });

    private static Tensor Unit(params double[] degrees) =>
        tensor(degrees.SelectMany(d => new[] { Math.Cos(d * Math.PI / 180), Math.Sin(d * Math.PI / 180) }).ToArray(), [degrees.Length, 2], ScalarType.Float64);

    private static Tensor Points(params double[] xs) => tensor(xs, [xs.Length, 1], ScalarType.Float64);

    private static Tensor Labels(params long[] labels) => tensor(labels);

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    [Fact]
    public void FastAP_MatchesHandValue_WhenDistancesSitOnBinCentres()
    {
        using var scope = NewDisposeScope();
        // Query at 0°; reference 60° (positive, d² = 1), 90° (negative, d² = 2), 120° (positive, d² = 3); 4 bins of width 1.
        // h⁺ = [0,1,0,1,0], H⁺ = [0,1,1,2,2], H = [0,1,2,3,3]: FastAP = (1·1/1 + 1·2/3) / 2 = 5/6.
        var loss = new FastAPLoss(numBins: 4);
        loss.forward(Unit(0), Labels(0), null, Unit(60, 90, 120), Labels(0, 1, 0)).item<double>().Should().BeApproximately(1.0 / 6, 1e-12);
    }

    [Fact]
    public void FastAP_MatchesHandValue_WhenAPositiveSplitsBetweenTwoBins()
    {
        using var scope = NewDisposeScope();
        // The first positive at cos θ = 0.25 has d² = 1.5: half in bin 1, half in bin 2.
        // h⁺ = [0,.5,.5,1,0], H⁺ = [0,.5,1,2,2], H = [0,.5,2,3,3]: Σ h⁺H⁺/H = .5 + .25 + 2/3, FastAP = 17/24.
        double first = Math.Acos(0.25) * 180 / Math.PI;
        var loss = new FastAPLoss(numBins: 4);
        loss.forward(Unit(0), Labels(0), null, Unit(first, 90, 120), Labels(0, 1, 0)).item<double>().Should().BeApproximately(7.0 / 24, 1e-12);
    }

    /*
     PML 2.8.1 (PYTHONPATH=/work/pml/src /usr/bin/python3; scipy and tqdm stubbed, unused by FastAP):
        import torch
        from pytorch_metric_learning import losses, distances
        torch.set_default_dtype(torch.float64)
        E = torch.tensor([...FixedBatch...]).view(10, 3)
        L = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 3, 4])
        print(repr(losses.FastAPLoss()(E, L).item()))                      # 0.7176462418037595
        print(repr(losses.FastAPLoss(num_bins=4)(E, L).item()))            # 0.749772760304283
        print(repr(losses.FastAPLoss(num_bins=7, distance=distances.LpDistance(power=1))(E, L).item()))  # 0.7363328853005497
    */
    [Theory]
    [InlineData(10, 2, 0.7176462418037595)]
    [InlineData(4, 2, 0.749772760304283)]
    [InlineData(7, 1, 0.7363328853005497)]
    public void FastAP_AgreesWithPml_OnAFixedBatch(int bins, double power, double expected)
    {
        using var scope = NewDisposeScope();
        var loss = new FastAPLoss(bins, new LpDistance(power: power));
        loss.call(FixedEmbeddings, FixedLabels).item<double>().Should().BeApproximately(expected, 1e-9);
    }

    [Fact]
    public void FastAP_GradientMatchesFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        var loss = new FastAPLoss(numBins: 5);
        Tensor labels = Labels(0, 0, 1, 1, 1, 2);
        GradientCheck.AssertMatches(x => loss.call(x, labels), FixedEmbeddings[..6]);
        GradientCheck.AssertMatches(x => loss.forward(x, labels[..3], null, FixedEmbeddings[3..], Labels(0, 1, 2, 2, 1, 0, 0)), FixedEmbeddings[..3]);
    }

    [Fact]
    public void FastAP_RequiresANormalisedEuclideanDistance()
    {
        var act = () => new FastAPLoss(distance: new LpDistance(normalizeEmbeddings: false));
        act.Should().Throw<ArgumentException>().WithMessage("*normalised*");
        var bins = () => new FastAPLoss(numBins: 0);
        bins.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void SmoothAP_MatchesHandValue_WithUnitTemperature()
    {
        using var scope = NewDisposeScope();
        // Query x = 0 (label 0); retrieved x = 1 (0), 2 (1), 3 (0) by plain distance, τ = 1.
        // Positive at 1: R(P) = 1 + σ(1 − 3), R(Ω) = 1 + σ(1 − 2) + σ(1 − 3). Positive at 3: R(P) = 1 + σ(2), R(Ω) = 1 + σ(1) + σ(2).
        double ap = ((1 + Sigmoid(-2)) / (1 + Sigmoid(-1) + Sigmoid(-2)) + (1 + Sigmoid(2)) / (1 + Sigmoid(1) + Sigmoid(2))) / 2;
        var loss = new SmoothAPLoss(temperature: 1, new LpDistance(normalizeEmbeddings: false));
        loss.forward(Points(0), Labels(0), null, Points(1, 2, 3), Labels(0, 1, 0)).item<double>().Should().BeApproximately(1 - ap, 1e-12);
    }

    [Fact]
    public void SmoothAP_ApproachesTrueAveragePrecision_AtLowTemperature()
    {
        using var scope = NewDisposeScope();
        // Ranks: positive, negative, positive → AP = (1/1 + 2/3) / 2 = 5/6.
        var loss = new SmoothAPLoss(temperature: 0.01, new LpDistance(normalizeEmbeddings: false));
        loss.forward(Points(0), Labels(0), null, Points(1, 2, 3), Labels(0, 1, 0)).item<double>().Should().BeApproximately(1.0 / 6, 1e-12);
    }

    /*
     Independent loop implementation of the paper's formula (query excluded from its own retrieval set), /usr/bin/python3:
        def smooth_ap(E, L, tau):
            X = torch.nn.functional.normalize(E, dim=1); S = X @ X.t(); n = len(L); losses = []
            for q in range(n):
                P = [j for j in range(n) if j != q and L[j] == L[q]]; O = [j for j in range(n) if j != q]
                if not P: continue
                G = lambda i, j: torch.sigmoid((S[q, j] - S[q, i]) / tau)
                ap = sum((1 + sum(G(i, j) for j in P if j != i)) / (1 + sum(G(i, j) for j in O if j != i)) for i in P) / len(P)
                losses.append(1 - ap)
            return sum(losses) / len(losses)
        smooth_ap(E, L, 0.1) = 0.6665432926176323, smooth_ap(E, L, 0.01) = 0.6276061875675191
    */
    [Theory]
    [InlineData(0.1, 0.6665432926176323)]
    [InlineData(0.01, 0.6276061875675191)]
    public void SmoothAP_AgreesWithALoopImplementationOfThePaper_OnAFixedBatchWithUnequalClasses(double temperature, double expected)
    {
        using var scope = NewDisposeScope();
        new SmoothAPLoss(temperature).call(FixedEmbeddings, FixedLabels).item<double>().Should().BeApproximately(expected, 1e-12);
    }

    [Fact]
    public void SmoothAP_GradientMatchesFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        Tensor labels = Labels(0, 0, 1, 1, 1, 2);
        GradientCheck.AssertMatches(x => new SmoothAPLoss(0.1).call(x, labels), FixedEmbeddings[..6]);
        GradientCheck.AssertMatches(x => new SmoothAPLoss(0.5, new LpDistance(power: 2)).call(x, labels), FixedEmbeddings[..6]);
        GradientCheck.AssertMatches(x => new SmoothAPLoss(0.1).forward(x, labels[..3], null, FixedEmbeddings[3..], Labels(0, 1, 2, 2, 1, 0, 0)), FixedEmbeddings[..3]);
    }

    [Fact]
    public void RankingLosses_AreLower_WhenPositivesRankFirst()
    {
        using var scope = NewDisposeScope();
        Tensor query = Unit(0), labels = Labels(0, 1);
        foreach (MetricLoss loss in new MetricLoss[] { new SmoothAPLoss(), new FastAPLoss() })
        {
            double good = loss.forward(query, Labels(0), null, Unit(10, 80), labels).item<double>();
            double bad = loss.forward(query, Labels(0), null, Unit(80, 10), labels).item<double>();
            good.Should().BeLessThan(0.05, loss.GetName());
            bad.Should().BeGreaterThan(good + 0.3, loss.GetName());
        }
    }

    [Fact]
    public void RankingLosses_AreZeroWithZeroGradient_WhenNoAnchorHasAPositive()
    {
        using var scope = NewDisposeScope();
        foreach (MetricLoss loss in new MetricLoss[] { new SmoothAPLoss(), new FastAPLoss() })
        {
            Tensor x = FixedEmbeddings[..4].clone().requires_grad_(true);
            Tensor value = loss.call(x, Labels(0, 1, 2, 3));
            value.item<double>().Should().Be(0);
            value.backward();
            x.grad!.abs().sum().item<double>().Should().Be(0);
        }
    }

    [Fact]
    public void RankingLosses_RankOnlyTheMinedPairs()
    {
        using var scope = NewDisposeScope();
        // Without the negative at 90°, both positives lead the ranking: AP = 1. With it (no tuples), AP = 5/6.
        var withoutNegative = new PairTuples(Labels(0, 0), Labels(0, 2), Labels(), Labels());
        foreach (MetricLoss loss in new MetricLoss[] { new SmoothAPLoss(temperature: 0.001), new FastAPLoss(numBins: 4) })
        {
            loss.forward(Unit(0), Labels(0), withoutNegative, Unit(60, 90, 120), Labels(0, 1, 0)).item<double>().Should().BeApproximately(0, 1e-9, loss.GetName());
            loss.forward(Unit(0), Labels(0), null, Unit(60, 90, 120), Labels(0, 1, 0)).item<double>().Should().BeApproximately(1.0 / 6, 1e-9, loss.GetName());
        }
    }

    [Fact]
    public void SmoothAP_RejectsANonPositiveTemperature()
    {
        var act = () => new SmoothAPLoss(temperature: 0);
        act.Should().Throw<ArgumentOutOfRangeException>();
    }
}
