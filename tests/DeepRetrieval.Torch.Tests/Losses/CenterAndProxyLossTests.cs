using DeepRetrieval.Torch.Losses;
using DeepRetrieval.Torch.Reducers;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Losses;

/// <summary>The losses that carry their own vectors: center and island loss (centres with their own update) and proxy anchor.</summary>
public class CenterAndProxyLossTests
{
    private static void SetCenters(CenterLoss loss, double[,] centers)
    {
        using var noGrad = no_grad();
        loss.Centers.copy_(tensor(centers));
    }

    private static CenterLoss Center(int classes, double alpha = 0.5)
    {
        var loss = new CenterLoss(classes, 2, alpha);
        loss.to(ScalarType.Float64);
        return loss;
    }

    [Fact]
    public void Center_IsHalfTheSquaredDistanceToTheClassCentre()
    {
        using var scope = NewDisposeScope();
        // c0 = (0, 0), c1 = (1, 1); x0 = (1, 0) of class 0 pays ½·1, x1 = (1, 2) of class 1 pays ½·1: mean 0.5.
        CenterLoss loss = Center(2);
        SetCenters(loss, new double[,] { { 0, 0 }, { 1, 1 } });
        loss.forward(tensor(new double[,] { { 1, 0 }, { 1, 2 } }), tensor(new long[] { 0, 1 })).item<double>().Should().BeApproximately(0.5, 1e-12);
    }

    [Fact]
    public void UpdateCenters_FollowsThePapersRule()
    {
        using var scope = NewDisposeScope();
        // Class 0 has x = (1, 0) and (3, 0) around c0 = (0, 0): Δc0 = ((c0 − x) summed) / (1 + 2) = (−4/3, 0); α = 0.5 gives c0 = (2/3, 0).
        // Class 1 has x = (1, 2) around c1 = (1, 1): Δc1 = (0, −1) / 2; c1 = (1, 1.25). Class 2 is absent and stays.
        CenterLoss loss = Center(3);
        SetCenters(loss, new double[,] { { 0, 0 }, { 1, 1 }, { 5, 5 } });
        loss.UpdateCenters(tensor(new double[,] { { 1, 0 }, { 1, 2 }, { 3, 0 } }), tensor(new long[] { 0, 1, 0 }));
        double[] centers = loss.Centers.data<double>().ToArray();
        centers.Should().BeEquivalentTo(new[] { 2.0 / 3, 0, 1, 1.25, 5, 5 }, o => o.Using<double>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-12)).WhenTypeIs<double>());
    }

    [Fact]
    public void Center_WithMinedTuples_CountsOnlyTheirAnchors()
    {
        using var scope = NewDisposeScope();
        CenterLoss loss = Center(2);
        SetCenters(loss, new double[,] { { 0, 0 }, { 1, 1 } });
        Tensor x = tensor(new double[,] { { 1, 0 }, { 1, 2 }, { 0, 3 } });
        var tuples = new DeepRetrieval.Torch.Miners.TripletTuples(tensor(new long[] { 2, 2 }), tensor(new long[] { 0, 0 }), tensor(new long[] { 1, 1 }));
        // Only anchor 2 (class 0, ½·9) counts.
        loss.forward(x, tensor(new long[] { 0, 1, 0 }), tuples).item<double>().Should().BeApproximately(4.5, 1e-12);
    }

    [Fact]
    public void Island_AddsTheCentreCosineTerm_AndItsCentreUpdate()
    {
        using var scope = NewDisposeScope();
        // c0 = (1, 0), c1 = (0, 1): Σ_{j≠k}(cos + 1) = 2, λ₁ = 10 adds 20 to the center part ½·1 / 2 = 0.25.
        var loss = new IslandLoss(2, 2, lambda1: 10, alpha: 0.5);
        loss.to(ScalarType.Float64);
        SetCenters(loss, new double[,] { { 1, 0 }, { 0, 1 } });
        Tensor x = tensor(new double[,] { { 1, 0 }, { 0, 2 } });
        Tensor labels = tensor(new long[] { 0, 1 });
        loss.forward(x, labels).item<double>().Should().BeApproximately(20.25, 1e-12);
        // Island Δc0 = λ₁/(N−1)·(c1/(|c1||c0|) − cos·c0/|c0|²) = (0, 10), center Δc0 = 0: c0 = (1, −5).
        // Island Δc1 = (10, 0), center Δc1 = ((0,1) − (0,2))/2 = (0, −0.5): c1 = (0, 1) − 0.5·(10, −0.5) = (−5, 1.25).
        loss.UpdateCenters(x, labels);
        double[] centers = loss.Centers.data<double>().ToArray();
        centers.Should().BeEquivalentTo(new[] { 1, -5, -5, 1.25 }, o => o.Using<double>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-12)).WhenTypeIs<double>());
    }

    [Fact]
    public void CenterLoss_TrainedWithItsUpdate_ConvergesToClassMeans()
    {
        using var scope = NewDisposeScope();
        CenterLoss loss = Center(2, alpha: 1);
        Tensor x = tensor(new double[,] { { 1, 0 }, { 3, 0 }, { 0, 2 }, { 0, 4 } });
        Tensor labels = tensor(new long[] { 0, 0, 1, 1 });
        for (int step = 0; step < 60; step++) loss.UpdateCenters(x, labels);
        loss.Centers.data<double>().ToArray().Should().BeEquivalentTo(new[] { 2.0, 0, 0, 3 }, o => o.Using<double>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-9)).WhenTypeIs<double>());
    }

    [Fact]
    public void LossesWithOwnVectors_RejectReferenceSets_BadLabels_AndWrongWidths()
    {
        using var scope = NewDisposeScope();
        var proxy = new ProxyAnchorLoss(8, 4);
        var center = new CenterLoss(8, 4);
        Tensor x = LossFixture.Embeddings().to(ScalarType.Float32);
        foreach (MetricLoss loss in new MetricLoss[] { proxy, center })
        {
            var reference = () => loss.forward(x, LossFixture.Labels(), null, x, LossFixture.Labels());
            reference.Should().Throw<ArgumentException>().WithMessage("*reference embeddings*");
            var outOfRange = () => loss.forward(x, tensor(new long[] { 0, 1, 2, 3, 4, 5, 6, 8 }));
            outOfRange.Should().Throw<ArgumentException>().WithMessage("*0..7*");
            var wrongWidth = () => loss.forward(zeros(8, 3), LossFixture.Labels());
            wrongWidth.Should().Throw<ArgumentException>().WithMessage("*4*");
        }
        var badUpdate = () => center.UpdateCenters(x, tensor(new long[] { 0, 1 }));
        badUpdate.Should().Throw<ArgumentException>().WithMessage("*labels*");
    }

    [Fact]
    public void ProxyAnchor_RefusesReducersThatReadBatchAnchors()
    {
        using var scope = NewDisposeScope();
        var loss = new ProxyAnchorLoss(8, 4) { Reducer = new PerAnchorReducer() };
        var act = () => loss.forward(LossFixture.Embeddings().to(ScalarType.Float32), LossFixture.Labels());
        act.Should().Throw<InvalidOperationException>().WithMessage("*PerAnchorReducer*");
    }

    [Fact]
    public void ProxyAnchor_ProxiesAreTrainableParameters_ThatOutliveTheConstructorsScope()
    {
        ProxyAnchorLoss loss;
        CenterLoss center;
        using (NewDisposeScope())
        {
            loss = new ProxyAnchorLoss(8, 4);
            center = new CenterLoss(8, 4);
        }
        using var scope = NewDisposeScope();
        loss.parameters().Should().ContainSingle().Which.shape.Should().Equal(8, 4);
        center.parameters().Should().BeEmpty("centres move by their own rule, not by the optimiser");
        center.state_dict().Keys.Should().Contain("centers");
        // kaiming_normal_ with fan_out = 8: standard deviation √(2/8) = 0.5; 32 draws land well inside (0.2, 1).
        double std = loss.Proxies.detach().std().item<float>();
        std.Should().BeInRange(0.2, 1.0);
        Tensor value = loss.forward(LossFixture.Embeddings().to(ScalarType.Float32), LossFixture.Labels());
        value.backward();
        loss.Proxies.grad!.abs().sum().item<float>().Should().BeGreaterThan(0);
        center.forward(LossFixture.Embeddings().to(ScalarType.Float32), LossFixture.Labels()).item<float>().Should().BeGreaterThan(0);
    }

    [Fact]
    public void ProxyAnchor_GradientWithRespectToProxies_MatchesFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        var loss = new ProxyAnchorLoss(4, 4);
        loss.to(ScalarType.Float64);
        Tensor embeddings = LossFixture.Embeddings();
        Tensor labels = LossFixture.Labels();
        GradientCheck.AssertMatches(p =>
        {
            using (no_grad()) loss.Proxies.copy_(p.detach());
            // Route the proxies through the loss so autograd reaches p: the loss sees exactly p's values.
            Tensor value = loss.forward(embeddings, labels);
            if (!p.requires_grad) return value;
            value.backward();
            Tensor grad = loss.Proxies.grad!.detach().clone();
            loss.Proxies.grad!.zero_();
            return value.detach() + (grad * (p - p.detach())).sum();
        }, LossFixture.Reference()[..4]);
    }
}
