using DeepRetrieval.Torch.Distances;
using DeepRetrieval.Torch.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Losses;

/// <summary>Small cases worked out by hand from each loss's formula.</summary>
public class HandValueTests
{
    private const double Tolerance = 1e-12;

    // x0 = (0, 0) and x1 = (0.6, 0) of class 0, x2 = (0, 0.8) of class 1: d01 = 0.6, d02 = 0.8, d12 = 1.
    private static Tensor Points() => tensor(new double[,] { { 0, 0 }, { 0.6, 0 }, { 0, 0.8 } });

    // x0 = (1, 0) and x1 = (0.5, 0) of class 0, x2 = (0.2, 1) of class 1: dot products s01 = 0.5, s02 = 0.2, s12 = 0.1.
    private static Tensor DotPoints() => tensor(new double[,] { { 1, 0 }, { 0.5, 0 }, { 0.2, 1 } });

    private static Tensor ThreeLabels() => tensor(new long[] { 0, 0, 1 });

    private static double Softplus(double x) => Math.Log(1 + Math.Exp(x));

    [Fact]
    public void Contrastive_AveragesTheNonZeroPositiveAndNegativeParts()
    {
        using var scope = NewDisposeScope();
        var distance = new LpDistance(normalizeEmbeddings: false);
        // Positive pairs pay [0.6 − 0]₊ = 0.6 twice; negatives pay [1 − 0.8]₊ = 0.2 twice and [1 − 1]₊ = 0 twice: 0.6 + 0.2.
        new ContrastiveLoss(distance: distance).forward(Points(), ThreeLabels()).item<double>().Should().BeApproximately(0.8, Tolerance);
        // m_pos = 0.5: positives pay 0.1.
        new ContrastiveLoss(0.5, distance: distance).forward(Points(), ThreeLabels()).item<double>().Should().BeApproximately(0.3, Tolerance);
    }

    [Fact]
    public void TripletMargin_HingeSwapAndSoftplus()
    {
        using var scope = NewDisposeScope();
        var distance = new LpDistance(normalizeEmbeddings: false);
        // Triplets (0,1,2): 0.6 − 0.8 + 0.5 = 0.3; (1,0,2): 0.6 − 1 + 0.5 = 0.1.
        new TripletMarginLoss(0.5, distance: distance).forward(Points(), ThreeLabels()).item<double>().Should().BeApproximately(0.2, Tolerance);
        // Swap: (1,0,2) uses d(p, n) = d02 = 0.8 < d12 = 1, so it pays 0.3 too.
        new TripletMarginLoss(0.5, swap: true, distance: distance).forward(Points(), ThreeLabels()).item<double>().Should().BeApproximately(0.3, Tolerance);
        new TripletMarginLoss(0.5, smoothLoss: true, distance: distance).forward(Points(), ThreeLabels()).item<double>()
            .Should().BeApproximately((Softplus(0.3) + Softplus(0.1)) / 2, Tolerance);
    }

    [Fact]
    public void MultiSimilarity_SumsScaledLogSumExpsPerAnchor()
    {
        using var scope = NewDisposeScope();
        // α = β = 1, λ = 0.5: anchors 0 and 1 pay log(1 + e^{−(0.5−0.5)}) + log(1 + e^{s_n − 0.5}); anchor 2 has no positive
        // and pays log(1 + e^{0.2−0.5} + e^{0.1−0.5}).
        double expected = (2 * Math.Log(2) + Math.Log(1 + Math.Exp(-0.3)) + Math.Log(1 + Math.Exp(-0.4)) + Math.Log(1 + Math.Exp(-0.3) + Math.Exp(-0.4))) / 3;
        new MultiSimilarityLoss(1, 1, 0.5, new DotProductSimilarity()).forward(DotPoints(), ThreeLabels()).item<double>().Should().BeApproximately(expected, Tolerance);
    }

    [Fact]
    public void Circle_WeighsPairsBySelfPacedMargins()
    {
        using var scope = NewDisposeScope();
        // Unit vectors at 0°, 60° (class 0) and 90° (class 1); m = 0.25, γ = 1. Anchor 0: s_p = 0.5 gives −0.75·(0.5 − 0.75) =
        // 0.1875, s_n = 0 gives 0.25·(0 − 0.25) = −0.0625. Anchor 1: s_n = √3/2 gives (√3/2 + ¼)(√3/2 − ¼) = 11/16.
        // Anchor 2 has no positive and is left out by the average over non-zero values.
        Tensor x = tensor(new double[,] { { 1, 0 }, { 0.5, Math.Sqrt(3) / 2 }, { 0, 1 } });
        double expected = (Softplus(0.1875 - 0.0625) + Softplus(0.1875 + 11.0 / 16)) / 2;
        new CircleLoss(0.25, 1).forward(x, ThreeLabels()).item<double>().Should().BeApproximately(expected, Tolerance);
    }

    [Fact]
    public void NTXent_ScoresEachPositiveAgainstItsAnchorsNegatives()
    {
        using var scope = NewDisposeScope();
        // τ = 1: pair (0,1) gives −log(e^0.5 / (e^0.5 + e^0.2)) = log(1 + e^−0.3); pair (1,0) gives log(1 + e^−0.4).
        double expected = (Math.Log(1 + Math.Exp(-0.3)) + Math.Log(1 + Math.Exp(-0.4))) / 2;
        new NTXentLoss(1, new DotProductSimilarity()).forward(DotPoints(), ThreeLabels()).item<double>().Should().BeApproximately(expected, Tolerance);
    }

    [Fact]
    public void SupCon_AveragesLogProbabilitiesOfPositives()
    {
        using var scope = NewDisposeScope();
        // Class 0 = {x0, x1, x2}, class 1 = {x3}; τ = 1, dot products with x0 = (1, 0), x1 = (0, 1), x2 = (1, 1), x3 = (−1, 0):
        // anchor 0: s01 = 0, s02 = 1, s03 = −1; L0 = −½[(0 − Z0) + (1 − Z0)] with Z0 = log(e^0 + e^1 + e^−1).
        // anchor 1: s10 = 0, s12 = 1, s13 = 0; L1 = −½[(0 − Z1) + (1 − Z1)], Z1 = log(1 + e + 1).
        // anchor 2: s20 = 1, s21 = 1, s23 = −1; L2 = −[1 − Z2], Z2 = log(2e + e^−1). Anchor 3 has no positive.
        Tensor x = tensor(new double[,] { { 1, 0 }, { 0, 1 }, { 1, 1 }, { -1, 0 } });
        double z0 = Math.Log(1 + Math.E + Math.Exp(-1)), z1 = Math.Log(2 + Math.E), z2 = Math.Log(2 * Math.E + Math.Exp(-1));
        double expected = ((z0 - 0.5) + (z1 - 0.5) + (z2 - 1)) / 3;
        new SupConLoss(1, new DotProductSimilarity()).forward(x, tensor(new long[] { 0, 0, 0, 1 })).item<double>().Should().BeApproximately(expected, Tolerance);
    }

    [Fact]
    public void ProxyAnchor_DividesThePositivePartByProxiesWithPositives()
    {
        using var scope = NewDisposeScope();
        // Proxies (1,0), (0,1), (−1,0); x0 = (1,0) of class 0, x1 = (0,1) of class 1; α = 1, δ = 0.1.
        // Positive part over proxies 0 and 1: log(1 + e^{−(1 − 0.1)}) each, divided by 2.
        // Negative part: proxies 0 and 1 see a similarity 0 → log(1 + e^{0.1}); proxy 2 sees −1 and 0 → log(1 + e^{−0.9} + e^{0.1}); divided by 3.
        var loss = new ProxyAnchorLoss(3, 2, 0.1, 1);
        loss.to(ScalarType.Float64);
        PmlAgreementTests.CopyProxies(loss, tensor(new double[,] { { 1, 0 }, { 0, 1 }, { -1, 0 } }));
        double expected = Math.Log(1 + Math.Exp(-0.9)) + (2 * Math.Log(1 + Math.Exp(0.1)) + Math.Log(1 + Math.Exp(-0.9) + Math.Exp(0.1))) / 3;
        loss.forward(tensor(new double[,] { { 1, 0 }, { 0, 1 } }), tensor(new long[] { 0, 1 })).item<double>().Should().BeApproximately(expected, Tolerance);
    }

    [Fact]
    public void TripletMargin_Swap_WithReferenceSet_ComparesReferenceRows()
    {
        using var scope = NewDisposeScope();
        // Brute force over LossFixture (python, normalised Euclidean dl): for a in E, p and n in R with L[a] = RL[p] ≠ RL[n]:
        //   v = max(0, dl(E[a], R[p]) − min(dl(E[a], R[n]), dl(R[p], R[n])) + 0.5); average over v > 0.
        LossFixture.Value(new TripletMarginLoss(0.5, swap: true), withReference: true).Should().BeApproximately(0.8346325886176604, 1e-12);
    }
}
