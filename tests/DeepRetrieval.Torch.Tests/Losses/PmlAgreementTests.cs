using DeepRetrieval.Torch.Distances;
using DeepRetrieval.Torch.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Losses;

/// <summary>
/// Values on <see cref="LossFixture"/> agree with pytorch-metric-learning 2.8.1 to 1e-9 in float64. Each expected value is
/// what the PML expression beside it printed (inputs in <see cref="LossFixture"/>'s comment): all pairs or triplets, the
/// reference set (R, RL), mined triplets (T3) and mined pairs (T4).
/// </summary>
public class PmlAgreementTests
{
    private const double Tolerance = 1e-9;

    [Fact]
    public void Contrastive_MatchesPml()
    {
        using var scope = NewDisposeScope();
        LossFixture.Value(new ContrastiveLoss()).Should().BeApproximately(1.3082381124597111, Tolerance); // ContrastiveLoss()(E, L)
        LossFixture.Value(new ContrastiveLoss(0.9, 0.2, new CosineSimilarity())).Should().BeApproximately(0.9443090296253153, Tolerance); // (pos_margin=0.9, neg_margin=0.2, distance=CosineSimilarity())
        LossFixture.Value(new ContrastiveLoss(), withReference: true).Should().BeApproximately(1.4771325253978547, Tolerance); // (E, L, None, R, RL)
        LossFixture.Value(new ContrastiveLoss(), LossFixture.Triplets()).Should().BeApproximately(1.0251056960355118, Tolerance); // (E, L, T3)
    }

    [Fact]
    public void TripletMargin_MatchesPml_IncludingSwapAndSmooth()
    {
        using var scope = NewDisposeScope();
        LossFixture.Value(new TripletMarginLoss()).Should().BeApproximately(0.3752939483580023, Tolerance);
        LossFixture.Value(new TripletMarginLoss(0.5)).Should().BeApproximately(0.6181361765682954, Tolerance);
        LossFixture.Value(new TripletMarginLoss(0.5, swap: true)).Should().BeApproximately(0.6896390871793607, Tolerance);
        LossFixture.Value(new TripletMarginLoss(smoothLoss: true)).Should().BeApproximately(0.6614734962926815, Tolerance);
        LossFixture.Value(new TripletMarginLoss(0.5), withReference: true).Should().BeApproximately(0.7617104101532475, Tolerance);
        LossFixture.Value(new TripletMarginLoss(0.5), LossFixture.Pairs()).Should().BeApproximately(0.42607831070955965, Tolerance);
        LossFixture.Value(new TripletMarginLoss(0.5), LossFixture.Triplets()).Should().BeApproximately(0.8596558119439603, Tolerance);
    }

    [Fact]
    public void MultiSimilarity_MatchesPml()
    {
        using var scope = NewDisposeScope();
        LossFixture.Value(new MultiSimilarityLoss()).Should().BeApproximately(0.9287811790296663, Tolerance);
        LossFixture.Value(new MultiSimilarityLoss(), withReference: true).Should().BeApproximately(0.8900971185036608, Tolerance);
        LossFixture.Value(new MultiSimilarityLoss(3, 20, 0.3), LossFixture.Pairs()).Should().BeApproximately(0.19008137793906865, Tolerance);
    }

    [Fact]
    public void Circle_MatchesPml()
    {
        using var scope = NewDisposeScope();
        LossFixture.Value(new CircleLoss()).Should().BeApproximately(118.00439287272704, 1e-8);
        LossFixture.Value(new CircleLoss(0.25, 32), withReference: true).Should().BeApproximately(50.725032458888485, 1e-8);
        LossFixture.Value(new CircleLoss(), LossFixture.Triplets()).Should().BeApproximately(30.129612053813123, 1e-8);
    }

    [Fact]
    public void NTXent_MatchesPml()
    {
        using var scope = NewDisposeScope();
        LossFixture.Value(new NTXentLoss()).Should().BeApproximately(5.8153528982994915, Tolerance);
        LossFixture.Value(new NTXentLoss(0.5), withReference: true).Should().BeApproximately(1.8639871149753453, Tolerance);
        LossFixture.Value(new NTXentLoss(0.5), LossFixture.Pairs()).Should().BeApproximately(0.5111136344959948, Tolerance);
        LossFixture.Value(new NTXentLoss(0.5, new LpDistance())).Should().BeApproximately(1.6636659956232036, Tolerance);
    }

    [Fact]
    public void SupCon_MatchesPml()
    {
        using var scope = NewDisposeScope();
        LossFixture.Value(new SupConLoss()).Should().BeApproximately(5.536347744197104, Tolerance);
        LossFixture.Value(new SupConLoss(0.5), withReference: true).Should().BeApproximately(1.7778545399283567, Tolerance);
        LossFixture.Value(new SupConLoss(0.5), LossFixture.Triplets()).Should().BeApproximately(0.4736985041994576, Tolerance);
    }

    [Fact]
    public void ProxyAnchor_MatchesPml_WithCopiedProxies()
    {
        using var scope = NewDisposeScope();
        // pa = ProxyAnchorLoss(4, 4); pa.proxies.data = R[:4].clone(); pa(E, L), pa(E, L, T3)
        // Float64 proxies, as PML's proxies become after pa.proxies.data = R (float32 ones would round R).
        var loss = new ProxyAnchorLoss(4, 4);
        loss.to(ScalarType.Float64);
        CopyProxies(loss, LossFixture.Reference()[..4]);
        LossFixture.Value(loss).Should().BeApproximately(40.18554375376249, Tolerance);
        LossFixture.Value(loss, LossFixture.Triplets()).Should().BeApproximately(39.2180443369244, Tolerance);
        // pa2 = ProxyAnchorLoss(5, 4, margin=0.2, alpha=16); pa2.proxies.data = R.clone(): classes 3 and 4 have no positives.
        var sparse = new ProxyAnchorLoss(5, 4, 0.2, 16);
        sparse.to(ScalarType.Float64);
        CopyProxies(sparse, LossFixture.Reference());
        LossFixture.Value(sparse).Should().BeApproximately(22.655804653101086, Tolerance);
    }

    internal static void CopyProxies(ProxyAnchorLoss loss, Tensor values)
    {
        using var noGrad = no_grad();
        loss.Proxies.copy_(values);
    }
}
