using DeepRetrieval.Torch.Losses;
using DeepRetrieval.Torch.Miners;
using static DeepRetrieval.Torch.Tests.Losses.SoftmaxLossTestTensors;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Losses;

public class SoftmaxFamilyLossTests
{
    // PML reference values (PML 2.8.1, Debian PyTorch 1.13, float64). Re-run with
    // PYTHONPATH=/work/pml/src /usr/bin/python3 (scipy.special.binom, scipy.stats.rankdata and tqdm stubbed when missing):
    //   import torch; from pytorch_metric_learning import losses
    //   E = torch.tensor([[0.3, -1.2, 0.5], [1.1, 0.4, -0.7], [-0.6, 0.9, 0.2], [0.8, 0.1, 1.3]], dtype=torch.float64)
    //   L = torch.tensor([0, 1, 2, 1])
    //   W = torch.tensor([[0.5, -0.3, 1.0, 0.2, -0.8], [-1.1, 0.6, 0.4, -0.5, 0.9], [0.7, -0.2, -0.9, 1.2, 0.3]], dtype=torch.float64)  # d x C
    //   Wc = W[:, :3].clone()
    //   def run(loss, w): loss.W.data = w.clone(); return loss(E, L).item()
    //   run(losses.NormalizedSoftmaxLoss(3, 3, temperature=0.5), Wc)      # 1.7218516479878507
    //   run(losses.SphereFaceLoss(3, 3, margin=4, scale=1), Wc)           # 4.601534514585612
    //   run(losses.LargeMarginSoftmaxLoss(3, 3, margin=4, scale=1), Wc)   # 4.301746639632205
    //   run(losses.CosFaceLoss(3, 3, margin=0.35, scale=8), Wc)           # 8.226576990080412
    //   run(losses.ArcFaceLoss(3, 3, margin=28.6, scale=8), Wc)           # 8.722787702432367 (degrees)
    //   sc = losses.SubCenterArcFaceLoss(num_classes=2, embedding_size=3, margin=28.6, scale=8, sub_centers=2)
    //   sc.W.data = W[:, :4].clone(); sc(E, torch.tensor([0, 1, 1, 0])).item()   # 4.704628204033929
    //   Ex = torch.stack([Wc[:, 0] * 2, -Wc[:, 1], Wc[:, 2] * 0.5, -Wc[:, 0]]); Lx = torch.tensor([0, 1, 2, 0])
    //   (cos θ_y = +1, −1, +1, −1) ArcFace 8.845011245248067, CosFace 9.292499061502308, SphereFace 4.529784749630814
    private static readonly double[][] PmlWeight =
    [
        [0.5, -0.3, 1.0, 0.2, -0.8],
        [-1.1, 0.6, 0.4, -0.5, 0.9],
        [0.7, -0.2, -0.9, 1.2, 0.3],
    ];

    private static Tensor Embeddings => Rows([0.3, -1.2, 0.5], [1.1, 0.4, -0.7], [-0.6, 0.9, 0.2], [0.8, 0.1, 1.3]);

    private static Tensor PmlLabels => Labels(0, 1, 2, 1);

    /// <summary>Our weight layout (one row per class) from PML's d × C matrix restricted to its first <paramref name="columns"/>.</summary>
    private static Tensor OurWeight(int columns) => Rows(PmlWeight).narrow(1, 0, columns).t().contiguous();

    private static Tensor ExtremeEmbeddings()
    {
        Tensor w = OurWeight(3);
        return stack([w[0] * 2, -w[1], w[2] * 0.5, -w[0]]);
    }

    private const double PmlArcFaceMargin = 28.6 * Math.PI / 180;

    public static TheoryData<string, double> PmlCases => new()
    {
        { "NormalizedSoftmax", 1.7218516479878507 },
        { "SphereFace", 4.601534514585612 },
        { "LargeMarginSoftmax", 4.301746639632205 },
        { "CosFace", 8.226576990080412 },
        { "ArcFace", 8.722787702432367 },
    };

    private static ClassifierLoss Make(string name) => name switch
    {
        "NormalizedSoftmax" => new NormalizedSoftmaxLoss(3, 3, temperature: 0.5),
        "SphereFace" => new SphereFaceLoss(3, 3, margin: 4, scale: 1),
        "LargeMarginSoftmax" => new LargeMarginSoftmaxLoss(3, 3, margin: 4, scale: 1),
        "CosFace" => new CosFaceLoss(3, 3, margin: 0.35, scale: 8),
        "ArcFace" => new ArcFaceLoss(3, 3, margin: PmlArcFaceMargin, scale: 8),
        "CircleSoftmax" => new CircleSoftmaxLoss(3, 3, margin: 0.25, gamma: 4),
        "Linear" => new LinearClassifierLoss(3, 3),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(PmlCases))]
    public void Loss_MatchesPml_OnTheSameWeights(string name, double pml)
    {
        using var scope = NewDisposeScope();
        ClassifierLoss loss = WithWeight(Make(name), OurWeight(3));
        Value(loss.call(Embeddings, PmlLabels)).Should().BeApproximately(pml, 1e-9);
    }

    [Fact]
    public void SubCenterArcFace_MatchesPml_WithSubCentresInPmlColumnOrder()
    {
        using var scope = NewDisposeScope();
        var loss = WithWeight(new SubCenterArcFaceLoss(2, 3, subCenters: 2, margin: PmlArcFaceMargin, scale: 8), OurWeight(4));
        Value(loss.call(Embeddings, Labels(0, 1, 1, 0))).Should().BeApproximately(4.704628204033929, 1e-9);
    }

    [Theory]
    [InlineData("ArcFace", 8.845011245248067)]
    [InlineData("CosFace", 9.292499061502308)]
    [InlineData("SphereFace", 4.529784749630814)]
    public void Loss_MatchesPml_AndHasFiniteGradients_WhereCosineIsPlusOrMinusOne(string name, double pml)
    {
        using var scope = NewDisposeScope();
        ClassifierLoss loss = WithWeight(Make(name), OurWeight(3));
        Tensor x = ExtremeEmbeddings().requires_grad_(true);
        Tensor value = loss.call(x, Labels(0, 1, 2, 0));
        Value(value).Should().BeApproximately(pml, 1e-9);
        value.backward();
        x.grad!.isfinite().all().item<bool>().Should().BeTrue();
        loss.Weight.grad!.isfinite().all().item<bool>().Should().BeTrue();
    }

    [Fact]
    public void ArcFace_HandValue_AtFortyFiveDegrees()
    {
        using var scope = NewDisposeScope();
        // θ_y = π/4 and m = π/4: φ = cos(π/2) = 0; the other class's cosine is √½; s = 1.
        var loss = WithWeight(new ArcFaceLoss(2, 2, margin: Math.PI / 4, scale: 1), Rows([1, 0], [0, 1]));
        Value(loss.call(Rows([1, 1]), Labels(0))).Should().BeApproximately(Softplus(Math.Sqrt(0.5)), 1e-12);
    }

    [Fact]
    public void ArcFace_UsesTheFallBack_WhenThetaPlusMarginPassesPi()
    {
        using var scope = NewDisposeScope();
        // θ_y = π: φ = cos θ − m·sin m = −1 − m·sin m; the other class's cosine is 0; s = 2.
        const double m = 0.5, s = 2;
        var loss = WithWeight(new ArcFaceLoss(2, 2, margin: m, scale: s), Rows([1, 0], [0, 1]));
        Value(loss.call(Rows([-1, 0]), Labels(0))).Should().BeApproximately(Softplus(s * (1 + m * Math.Sin(m))), 1e-12);
        // Just inside the boundary (θ = π − m − 0.01) the margin form cos(θ + m) applies.
        double theta = Math.PI - m - 0.01;
        Tensor inside = Rows([Math.Cos(theta), Math.Sin(theta)]);
        Value(loss.call(inside, Labels(0))).Should().BeApproximately(Softplus(s * (Math.Sin(theta) - Math.Cos(theta + m))), 1e-12);
    }

    [Fact]
    public void ArcFace_EasyMargin_KeepsTheCosine_WhereItIsNotPositive()
    {
        using var scope = NewDisposeScope();
        var loss = WithWeight(new ArcFaceLoss(2, 2, margin: 0.5, scale: 1, easyMargin: true), Rows([1, 0], [0, 1]));
        // θ_y = 2π/3 (cos = −½): easy margin leaves it; the other cosine is sin(2π/3).
        double theta = 2 * Math.PI / 3;
        Value(loss.call(Rows([Math.Cos(theta), Math.Sin(theta)]), Labels(0))).Should().BeApproximately(Softplus(Math.Sin(theta) - Math.Cos(theta)), 1e-12);
        // θ_y = π/3 (cos = ½ > 0): the margin applies.
        theta = Math.PI / 3;
        Value(loss.call(Rows([Math.Cos(theta), Math.Sin(theta)]), Labels(0))).Should().BeApproximately(Softplus(Math.Sin(theta) - Math.Cos(theta + 0.5)), 1e-12);
    }

    [Fact]
    public void CosFace_HandValue()
    {
        using var scope = NewDisposeScope();
        // cos θ = [1, 0], logits s·[1 − m, 0] with s = 2, m = 0.5.
        var loss = WithWeight(new CosFaceLoss(2, 2, margin: 0.5, scale: 2), Rows([1, 0], [0, 1]));
        Value(loss.call(Rows([3, 0]), Labels(0))).Should().BeApproximately(Softplus(-1), 1e-12);
    }

    [Fact]
    public void NormalizedSoftmax_HandValue_NormalisesTheClassWeights()
    {
        using var scope = NewDisposeScope();
        // Weights (2, 0) and (0, 3) normalise to the unit axes: logits [1, 0] / T with T = 0.5.
        var loss = WithWeight(new NormalizedSoftmaxLoss(2, 2, temperature: 0.5), Rows([2, 0], [0, 3]));
        Value(loss.call(Rows([1, 0]), Labels(0))).Should().BeApproximately(Softplus(-2), 1e-12);
    }

    [Fact]
    public void SphereFace_HandValues_InTheFirstAndSecondAngleIntervals()
    {
        using var scope = NewDisposeScope();
        var loss = WithWeight(new SphereFaceLoss(2, 2, margin: 2), Rows([1, 0], [0, 1]));
        // x = (1, 1): θ = π/4, k = 0, ψ = cos(π/2) = 0; ‖x‖ = √2, so logits [0, √2·√½ = 1].
        Value(loss.call(Rows([1, 1]), Labels(0))).Should().BeApproximately(Softplus(1), 1e-12);
        // x = (−1, 1): θ = 3π/4, k = 1, ψ = −cos(3π/2) − 2 = −2; logits √2·[−2, √½].
        Value(loss.call(Rows([-1, 1]), Labels(0))).Should().BeApproximately(Softplus(1 + 2 * Math.Sqrt(2)), 1e-12);
    }

    [Fact]
    public void SubCenterArcFace_TakesTheClosestSubCentre_AndReportsIt()
    {
        using var scope = NewDisposeScope();
        // Class 0 has sub-centres (1, 0) and (0, 1); class 1 has (−1, 0) and (0, −1). m = π/2, s = 1.
        var loss = WithWeight(new SubCenterArcFaceLoss(2, 2, subCenters: 2, margin: Math.PI / 2, scale: 1), Rows([1, 0], [0, 1], [-1, 0], [0, -1]));
        // x = (1, 0): class cosines [1, 0]; φ(0) = cos(π/2) = 0, so both logits are 0.
        Value(loss.call(Rows([1, 0]), Labels(0))).Should().BeApproximately(Math.Log(2), 1e-12);
        loss.DominantSubCenters(Rows([1, 0], [0, 2], [0, -1]), Labels(0, 0, 1)).data<long>().ToArray().Should().Equal(0L, 1L, 1L);
        loss.Logits(Rows([0, 1])).data<double>().ToArray().Should().Equal(1.0, 0.0);
    }

    [Fact]
    public void CircleSoftmax_HandValue()
    {
        using var scope = NewDisposeScope();
        // s_p = 1, α_p = 0.25, Δ_p = 0.75 → 0.0625; s_n = 0, α_n = 0.25, Δ_n = 0.25 → −0.0625; γ = 1.
        var loss = WithWeight(new CircleSoftmaxLoss(2, 2, margin: 0.25, gamma: 1), Rows([1, 0], [0, 1]));
        Value(loss.call(Rows([1, 0]), Labels(0))).Should().BeApproximately(Softplus(-0.125), 1e-12);
    }

    [Fact]
    public void LinearClassifier_WithLabelSmoothing_MatchesTheHandValue()
    {
        using var scope = NewDisposeScope();
        // Logits x·Wᵀ = [0, ln 3]: −log p = [ln 4, ln 4/3]; ε = 0.2 → 0.8·ln 4 + 0.1·(ln 4 + ln 4/3).
        var loss = WithWeight(new LinearClassifierLoss(2, 1, new LabelSmoothingCrossEntropyLoss(0.2)), Rows([0], [Math.Log(3)]));
        double expected = 0.8 * Math.Log(4) + 0.1 * (Math.Log(4) + Math.Log(4.0 / 3));
        Value(loss.call(Rows([1]), Labels(0))).Should().BeApproximately(expected, 1e-12);
    }

    [Theory]
    [InlineData("NormalizedSoftmax")]
    [InlineData("SphereFace")]
    [InlineData("LargeMarginSoftmax")]
    [InlineData("CosFace")]
    [InlineData("ArcFace")]
    [InlineData("Linear")]
    public void Gradient_MatchesFiniteDifferences(string name)
    {
        ClassifierLoss loss = WithWeight(Make(name), OurWeight(3));
        GradientCheck.AssertMatches(x => loss.call(x, PmlLabels), Embeddings);
    }

    [Fact]
    public void CircleSoftmax_Gradient_TreatsTheSelfPacedWeightsAsConstants()
    {
        // α_p, α_n are not differentiated (the paper's code detaches them), so finite differences of the loss itself would
        // differ. Instead: a hand-written circle loss with α frozen at the check point passes the finite-difference check, and
        // ours has the same value and autograd gradient there.
        const double m = 0.25, gamma = 4;
        Tensor weight = OurWeight(3);
        var loss = WithWeight(new CircleSoftmaxLoss(3, 3, margin: m, gamma: gamma), weight);
        Tensor target = nn.functional.one_hot(PmlLabels, 3).to(ScalarType.Float64);
        Tensor Cosine(Tensor x) => nn.functional.normalize(x, 2, 1).matmul(nn.functional.normalize(weight, 2, 1).t());
        using var scope = NewDisposeScope();
        Tensor frozen = Cosine(Embeddings);
        Tensor alpha = (target * (1 + m - frozen) + (1 - target) * (frozen + m)).relu().detach().MoveToOuterDisposeScope();
        Tensor Reference(Tensor x)
        {
            Tensor s = Cosine(x);
            Tensor logits = gamma * alpha * (target * (s - (1 - m)) + (1 - target) * (s - m));
            return nn.functional.cross_entropy(logits, PmlLabels);
        }
        GradientCheck.AssertMatches(Reference, Embeddings);

        Tensor ours = Embeddings.requires_grad_(true), theirs = Embeddings.requires_grad_(true);
        Tensor value = loss.call(ours, PmlLabels);
        Tensor reference = Reference(theirs);
        Value(value).Should().BeApproximately(Value(reference), 1e-12);
        value.backward();
        reference.backward();
        (ours.grad! - theirs.grad!).abs().max().item<double>().Should().BeLessThan(1e-12);
    }

    [Fact]
    public void SubCenterArcFace_Gradient_MatchesFiniteDifferences()
    {
        var loss = WithWeight(new SubCenterArcFaceLoss(2, 3, subCenters: 2, margin: PmlArcFaceMargin, scale: 8), OurWeight(4));
        GradientCheck.AssertMatches(x => loss.call(x, Labels(0, 1, 1, 0)), Embeddings);
    }

    [Fact]
    public void Gradient_ReachesTheClassWeights()
    {
        using var scope = NewDisposeScope();
        var loss = WithWeight(new ArcFaceLoss(3, 3, scale: 8), OurWeight(3));
        loss.call(Embeddings, PmlLabels).backward();
        loss.parameters().Should().ContainSingle();
        loss.Weight.grad!.abs().sum().item<double>().Should().BeGreaterThan(0);
    }

    [Fact]
    public void MinedTuples_WeighEachElementByItsOccurrences()
    {
        using var scope = NewDisposeScope();
        var loss = WithWeight(new LinearClassifierLoss(3, 3), OurWeight(3));
        Tensor perElement = -nn.functional.log_softmax(loss.Logits(Embeddings), 1).gather(1, PmlLabels.unsqueeze(1)).squeeze(1);
        // Occurrences: element 0 twice, 1 once, 2 twice, 3 once → weights [1, ½, 1, ½] (PML convert_to_weights).
        var tuples = new TripletTuples(Labels(0, 0), Labels(2, 2), Labels(1, 3));
        double expected = (perElement * tensor(new[] { 1.0, 0.5, 1.0, 0.5 })).mean().item<double>();
        Value(loss.forward(Embeddings, PmlLabels, tuples)).Should().BeApproximately(expected, 1e-12);
    }

    [Fact]
    public void LargeMarginSoftmax_HandValue_KeepsTheWeightNorms()
    {
        using var scope = NewDisposeScope();
        // m = 2, x = (1, 1): θ = π/4, ψ = 0; weights (2, 0) and (0, 3): logits ‖x‖·[2·0, 3·√½] = [0, 3].
        var loss = WithWeight(new LargeMarginSoftmaxLoss(2, 2, margin: 2), Rows([2, 0], [0, 3]));
        Value(loss.call(Rows([1, 1]), Labels(0))).Should().BeApproximately(Softplus(3), 1e-12);
    }

    [Theory]
    [InlineData("NormalizedSoftmax")]
    [InlineData("SphereFace")]
    [InlineData("ArcFace")]
    [InlineData("CircleSoftmax")]
    public void EmptyBatch_GivesZero_WithZeroGradient(string name)
    {
        using var scope = NewDisposeScope();
        ClassifierLoss loss = WithWeight(Make(name), OurWeight(3));
        Tensor x = zeros(0, 3, dtype: ScalarType.Float64).requires_grad_(true);
        Tensor value = loss.call(x, zeros(0, dtype: ScalarType.Int64));
        Value(value).Should().Be(0);
        value.backward();
        loss.Weight.grad?.abs().sum().item<double>().Should().Be(0);
    }

    [Fact]
    public void Logits_AreTheMarginFreeScaledCosines()
    {
        using var scope = NewDisposeScope();
        var loss = WithWeight(new ArcFaceLoss(2, 2, scale: 10), Rows([1, 0], [0, 1]));
        loss.Logits(Rows([3, 4])).data<double>().ToArray().Should().Equal([6.0, 8.0], (a, b) => Math.Abs(a - b) < 1e-12);
    }

    [Fact]
    public void Loss_BuiltInsideADisposeScope_StillWorksAfterIt()
    {
        ArcFaceLoss loss;
        using (NewDisposeScope()) loss = new ArcFaceLoss(4, 3);
        using var scope = NewDisposeScope();
        Tensor value = loss.call(randn(5, 3), Labels(0, 1, 2, 3, 0));
        double.IsFinite(value.item<float>()).Should().BeTrue();
    }

    [Fact]
    public void BadInput_IsRejected_WithAClearMessage()
    {
        using var scope = NewDisposeScope();
        var loss = new CosFaceLoss(3, 3);
        loss.Invoking(l => l.call(randn(2, 3), Labels(0, 3))).Should().Throw<ArgumentException>().WithMessage("*0..2*3*");
        loss.Invoking(l => l.call(randn(2, 4), Labels(0, 1))).Should().Throw<ArgumentException>().WithMessage("*4 components*3*");
        loss.Invoking(l => l.forward(randn(2, 3), Labels(0, 1), null, randn(2, 3), Labels(0, 1))).Should().Throw<ArgumentException>().WithMessage("*reference*");
        FluentActions.Invoking(() => new ArcFaceLoss(3, 3, margin: 28.6)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*radians*");
        FluentActions.Invoking(() => new SphereFaceLoss(3, 3, margin: 0)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
