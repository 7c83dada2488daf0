using DeepRetrieval.Torch.Distances;
using DeepRetrieval.Torch.Losses;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Losses;

/// <summary>
/// The quadruplet loss against a brute-force evaluation of its formula over explicit quadruplets, and the gradients of the two
/// losses whose weights or margins are detached (checked against surrogates in which those are constants).
/// </summary>
public class QuadrupletAndCircleTests
{
    // Brute force in plain python over every triplet and every second negative (same literals as LossFixture):
    //   def unit(v): n = math.sqrt(sum(a*a for a in v)); return [a/n for a in v]
    //   def d(u, v): u, v = unit(u), unit(v); return sum((a-b)**2 for a, b in zip(u, v))
    //   pos/neg = d over every positive / negative (batch, reference) pair, self pairs excluded; gap = max(0, mean(neg) − mean(pos))
    //   for (a, p, n) in triplets: first += [max(0, d(a,p) − d(a,n) + w1·gap)]
    //       cands = [d(R[n], R[k]) for k if RL[k] ∉ {L[a], RL[n]}]; if cands: second += [max(0, d(a,p) − min(cands) + w2·gap)]
    //   loss = avg_nonzero(first) + avg_nonzero(second)
    private const double MeanGap = 0.43055613167937046;

    [Fact]
    public void Quadruplet_MatchesBruteForce_OverAllTriplets()
    {
        using var scope = NewDisposeScope();
        LossFixture.Value(new QuadrupletLoss()).Should().BeApproximately(2.4217410461475883, 1e-12);
        LossFixture.Value(new QuadrupletLoss(0.3, 0.2, adaptiveMargin: false)).Should().BeApproximately(2.3536386346378544, 1e-12);
    }

    [Fact]
    public void Quadruplet_MatchesBruteForce_WithReferenceSetAndMinedTriplets()
    {
        using var scope = NewDisposeScope();
        LossFixture.Value(new QuadrupletLoss(), withReference: true).Should().BeApproximately(2.515702119356158, 1e-12);
        LossFixture.Value(new QuadrupletLoss(), LossFixture.Triplets()).Should().BeApproximately(2.295266040039946, 1e-12);
    }

    [Fact]
    public void Quadruplet_WithASimilarity_FlipsTheInequalities()
    {
        using var scope = NewDisposeScope();
        // Brute force with cosine cs: gap = max(0, mean pos cs − mean neg cs); L₁ = [cs(a,n₁) − cs(a,p) + gap]₊;
        // L₂ = [max_{n₂} cs(n₁,n₂) − cs(a,p) + gap/2]₊ over n₂ of a third class.
        LossFixture.Value(new QuadrupletLoss(distance: new CosineSimilarity())).Should().BeApproximately(1.2108705230737944, 1e-12);
    }

    [Fact]
    public void Quadruplet_WithTwoClasses_HasOnlyTheTripletTerm()
    {
        using var scope = NewDisposeScope();
        // No third class means no valid n₂: the loss is the triplet term alone, [d(a,p) − d(a,n) + α₁]₊ averaged over non-zero.
        Tensor labels = tensor(new long[] { 0, 0, 1, 1, 1, 0, 1, 0 });
        double quadruplet = new QuadrupletLoss(0.3, 0.2, adaptiveMargin: false).forward(LossFixture.Embeddings(), labels).item<double>();
        double triplet = new TripletMarginLoss(0.3, distance: new LpDistance(power: 2)).forward(LossFixture.Embeddings(), labels).item<double>();
        quadruplet.Should().BeApproximately(triplet, 1e-12).And.BeGreaterThan(0);
    }

    [Fact]
    public void Quadruplet_AdaptiveGradient_EqualsFixedMarginGradient_AtTheSameMargins()
    {
        using var scope = NewDisposeScope();
        // The adaptive margins are constants for autograd, so the gradient is that of fixed margins α₁ = gap, α₂ = gap / 2,
        // whose gradient the contract tests check against finite differences.
        Tensor labels = LossFixture.Labels();
        Tensor adaptive = Gradient(x => new QuadrupletLoss().forward(x, labels));
        Tensor fixedMargins = Gradient(x => new QuadrupletLoss(MeanGap, MeanGap / 2, adaptiveMargin: false).forward(x, labels));
        (adaptive - fixedMargins).abs().max().item<double>().Should().BeLessThan(1e-12);
        adaptive.abs().sum().item<double>().Should().BeGreaterThan(0);
    }

    [Fact]
    public void Circle_Gradient_TreatsSelfPacedWeightsAsConstants()
    {
        using var scope = NewDisposeScope();
        const double m = 0.4, gamma = 80;
        Tensor labels = LossFixture.Labels();
        Tensor point = LossFixture.Embeddings();
        // Every anchor of the fixture has a positive and a negative, so the average over non-zero rows is the plain mean.
        Tensor same = labels.unsqueeze(1).eq(labels.unsqueeze(0));
        Tensor positive = same.logical_and(eye(8, dtype: ScalarType.Bool).logical_not());
        Tensor negative = same.logical_not();
        Tensor Cosines(Tensor x) { Tensor u = nn.functional.normalize(x, 2, 1); return u.matmul(u.t()); }
        Tensor fixedWeights = Cosines(point);
        Tensor Surrogate(Tensor x)
        {
            Tensor s = Cosines(x);
            Tensor lp = (-gamma * nn.functional.relu(1 + m - fixedWeights) * (s - (1 - m))).masked_fill(positive.logical_not(), double.NegativeInfinity);
            Tensor ln = (gamma * nn.functional.relu(fixedWeights + m) * (s - m)).masked_fill(negative.logical_not(), double.NegativeInfinity);
            return nn.functional.softplus(lp.logsumexp(1) + ln.logsumexp(1)).mean();
        }
        GradientCheck.AssertMatches(Surrogate, point);
        Tensor circle = Gradient(x => new CircleLoss(m, gamma).forward(x, labels));
        Tensor surrogate = Gradient(Surrogate);
        (circle - surrogate).abs().max().item<double>().Should().BeLessThan(1e-9);
    }

    private static Tensor Gradient(Func<Tensor, Tensor> f)
    {
        Tensor x = LossFixture.Embeddings().requires_grad_(true);
        f(x).backward();
        return x.grad!.detach().clone();
    }
}
