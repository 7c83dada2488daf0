using DeepRetrieval.Torch.Distances;
using DeepRetrieval.Torch.Losses;
using DeepRetrieval.Torch.Reducers;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Losses;

/// <summary>What every loss of this family promises: exact float64 gradients, no NaN, zero with zero gradient when there is nothing to learn.</summary>
public class LossContractTests
{
    public static TheoryData<string> AllLosses => new()
    {
        "Contrastive", "ContrastiveCosine", "TripletMargin", "TripletSwapSmooth", "Quadruplet", "MultiSimilarity", "Circle",
        "NTXent", "SupCon", "ProxyAnchor", "Center", "Island",
    };

    // Circle's self-paced weights and the quadruplet's adaptive margin are detached by design (as in the papers and PML), so
    // autograd differs from finite differences of the value; QuadrupletAndCircleGradientTests checks them against surrogates.
    public static TheoryData<string> DifferentiableLosses => new()
    {
        "Contrastive", "ContrastiveCosine", "TripletMargin", "TripletSwapSmooth", "QuadrupletFixed", "MultiSimilarity",
        "NTXent", "SupCon", "ProxyAnchor", "Center", "Island",
    };

    public static TheoryData<string> DifferentiableTupleLosses => new() { "TripletMargin", "TripletSwapSmooth", "QuadrupletFixed", "NTXent", "SupCon", "Contrastive", "MultiSimilarity" };

    // Losses that need a positive and a negative for every term.
    public static TheoryData<string> TupleLosses => new() { "TripletMargin", "TripletSwapSmooth", "Quadruplet", "Circle", "NTXent", "SupCon" };

    internal static MetricLoss Create(string name)
    {
        MetricLoss loss = name switch
        {
            "Contrastive" => new ContrastiveLoss(),
            "ContrastiveCosine" => new ContrastiveLoss(0.9, 0.2, new CosineSimilarity()),
            "TripletMargin" => new TripletMarginLoss(0.5),
            "TripletSwapSmooth" => new TripletMarginLoss(0.5, swap: true, smoothLoss: true),
            "Quadruplet" => new QuadrupletLoss(),
            "QuadrupletFixed" => new QuadrupletLoss(0.3, 0.2, adaptiveMargin: false),
            "MultiSimilarity" => new MultiSimilarityLoss(),
            "Circle" => new CircleLoss(),
            "NTXent" => new NTXentLoss(0.5),
            "SupCon" => new SupConLoss(0.5),
            "ProxyAnchor" => new ProxyAnchorLoss(8, 4),
            "Center" => new CenterLoss(8, 4),
            "Island" => new IslandLoss(8, 4, 0.1),
            _ => throw new ArgumentException(name),
        };
        loss.to(ScalarType.Float64);
        return loss;
    }

    [Theory]
    [MemberData(nameof(DifferentiableLosses))]
    public void Gradient_MatchesFiniteDifferences(string name)
    {
        using var scope = NewDisposeScope();
        MetricLoss loss = Create(name);
        Tensor labels = LossFixture.Labels();
        GradientCheck.AssertMatches(x => loss.forward(x, labels), LossFixture.Embeddings());
    }

    [Theory]
    [MemberData(nameof(DifferentiableLosses))]
    public void Gradient_MatchesFiniteDifferences_WithMinedTriplets(string name)
    {
        using var scope = NewDisposeScope();
        MetricLoss loss = Create(name);
        Tensor labels = LossFixture.Labels();
        GradientCheck.AssertMatches(x => loss.forward(x, labels, LossFixture.Triplets()), LossFixture.Embeddings());
    }

    [Theory]
    [MemberData(nameof(DifferentiableTupleLosses))]
    public void Gradient_MatchesFiniteDifferences_WithReferenceSetAndMinedPairs(string name)
    {
        using var scope = NewDisposeScope();
        MetricLoss loss = Create(name);
        Tensor labels = LossFixture.Labels();
        GradientCheck.AssertMatches(x => loss.forward(x, labels, null, LossFixture.Reference(), LossFixture.ReferenceLabels()), LossFixture.Embeddings());
        GradientCheck.AssertMatches(x => loss.forward(x, labels, LossFixture.Pairs()), LossFixture.Embeddings());
    }

    [Theory]
    [MemberData(nameof(TupleLosses))]
    public void NoPositivePair_GivesZeroWithZeroGradient(string name) =>
        AssertZeroWithZeroGradient(Create(name), tensor(new long[] { 0, 1, 2, 3, 4, 5, 6, 7 }));

    [Theory]
    [MemberData(nameof(TupleLosses))]
    public void NoNegativePair_GivesZeroWithZeroGradient(string name) =>
        AssertZeroWithZeroGradient(Create(name), tensor(new long[] { 3, 3, 3, 3, 3, 3, 3, 3 }));

    [Theory]
    [MemberData(nameof(AllLosses))]
    public void IdenticalEmbeddings_GiveFiniteValueAndGradient(string name)
    {
        // Every cosine is exactly 1 and every distance 0: the places where acos, sqrt and division blow up.
        using var scope = NewDisposeScope();
        Tensor x = tensor(new double[] { 0.3, -0.2, 0.5, 0.1 }).repeat(8, 1).requires_grad_(true);
        Tensor value = Create(name).forward(x, LossFixture.Labels());
        value.backward();
        double.IsFinite(value.item<double>()).Should().BeTrue();
        x.grad!.isfinite().all().item<bool>().Should().BeTrue();
    }

    [Fact]
    public void Contrastive_WithoutPositivePairs_PaysOnlyItsNegativePart()
    {
        using var scope = NewDisposeScope();
        // As in PML: all labels distinct leaves the negative part, which equals the loss with m_pos irrelevant.
        Tensor distinct = tensor(new long[] { 0, 1, 2, 3, 4, 5, 6, 7 });
        double withDistinct = new ContrastiveLoss().forward(LossFixture.Embeddings(), distinct).item<double>();
        double negativeOnly = new ContrastiveLoss(positiveMargin: 100).forward(LossFixture.Embeddings(), distinct).item<double>();
        withDistinct.Should().BeGreaterThan(0).And.BeApproximately(negativeOnly, 1e-12);
    }

    [Fact]
    public void PairLosses_AcceptMinedPairTuples_AndIgnoreUnminedPairs()
    {
        using var scope = NewDisposeScope();
        // Mining exactly every pair gives the same value as no mining.
        var all = DeepRetrieval.Torch.Miners.IndexTupleOps.AllPairs(LossFixture.Labels());
        foreach (string name in new[] { "Contrastive", "MultiSimilarity", "Circle", "NTXent", "SupCon" })
            LossFixture.Value(Create(name), all).Should().BeApproximately(LossFixture.Value(Create(name)), 1e-12, name);
    }

    [Fact]
    public void Forward_RejectsMismatchedReferenceWidth()
    {
        using var scope = NewDisposeScope();
        var act = () => new TripletMarginLoss().forward(LossFixture.Embeddings(), LossFixture.Labels(), null, zeros(3, 5, dtype: ScalarType.Float64), tensor(new long[] { 0, 1, 2 }));
        act.Should().Throw<ArgumentException>().WithMessage("*reference*");
    }

    [Fact]
    public void Constructors_RejectBadHyperparameters()
    {
        new Action(() => _ = new ContrastiveLoss(double.NaN)).Should().Throw<ArgumentException>().WithMessage("*positive margin*");
        new Action(() => _ = new TripletMarginLoss(double.PositiveInfinity)).Should().Throw<ArgumentException>().WithMessage("*margin*");
        new Action(() => _ = new MultiSimilarityLoss(alpha: 0)).Should().Throw<ArgumentException>().WithMessage("*Alpha*");
        new Action(() => _ = new CircleLoss(gamma: -1)).Should().Throw<ArgumentException>().WithMessage("*Gamma*");
        new Action(() => _ = new NTXentLoss(0)).Should().Throw<ArgumentException>().WithMessage("*temperature*");
        new Action(() => _ = new SupConLoss(double.NaN)).Should().Throw<ArgumentException>().WithMessage("*temperature*");
        new Action(() => _ = new ProxyAnchorLoss(0, 4)).Should().Throw<ArgumentException>().WithMessage("*classes*");
        new Action(() => _ = new QuadrupletLoss(-1)).Should().Throw<ArgumentException>().WithMessage("*first margin*");
        new Action(() => _ = new CenterLoss(3, 4, alpha: 2)).Should().Throw<ArgumentException>().WithMessage("*Alpha*");
        new Action(() => _ = new IslandLoss(1, 4)).Should().Throw<ArgumentException>().WithMessage("*2 classes*");
    }

    private static void AssertZeroWithZeroGradient(MetricLoss loss, Tensor labels)
    {
        using var scope = NewDisposeScope();
        Tensor x = LossFixture.Embeddings().requires_grad_(true);
        Tensor value = loss.forward(x, labels);
        value.item<double>().Should().Be(0);
        value.backward();
        x.grad!.abs().sum().item<double>().Should().Be(0);
    }
}
