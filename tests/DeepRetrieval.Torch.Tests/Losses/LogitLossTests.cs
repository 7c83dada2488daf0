using DeepRetrieval.Torch.Losses;
using static DeepRetrieval.Torch.Tests.Losses.SoftmaxLossTestTensors;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Losses;

public class LogitLossTests
{
    // Every row [0, ln k] has p(class 0) = 1/(1 + k), so its cross-entropy against label 0 is ln(1 + k).
    private static Tensor RowsWithOdds(params double[] k) => Rows(k.Select(v => new[] { 0, Math.Log(v) }).ToArray());

    [Fact]
    public void LabelSmoothing_MatchesPyTorch()
    {
        using var scope = NewDisposeScope();
        // torch.nn.CrossEntropyLoss(label_smoothing=0.1)(torch.tensor([[2.0, -1.0, 0.5], [0.1, 0.2, 3.0], [-2.0, 1.5, 0.0]],
        //     dtype=torch.float64), torch.tensor([0, 1, 2])).item()  →  1.6511271590256298 (PyTorch 1.13)
        Tensor logits = Rows([2.0, -1.0, 0.5], [0.1, 0.2, 3.0], [-2.0, 1.5, 0.0]);
        Value(new LabelSmoothingCrossEntropyLoss(0.1).call(logits, Labels(0, 1, 2))).Should().BeApproximately(1.6511271590256298, 1e-12);
    }

    [Fact]
    public void LabelSmoothing_WithZeroSmoothing_IsCrossEntropy()
    {
        using var scope = NewDisposeScope();
        Value(new LabelSmoothingCrossEntropyLoss(0).call(RowsWithOdds(3), Labels(0))).Should().BeApproximately(Math.Log(4), 1e-12);
    }

    [Fact]
    public void Focal_HandValue_WithAndWithoutClassWeights()
    {
        using var scope = NewDisposeScope();
        // p_t = 1/4: −(1 − 1/4)²·ln(1/4).
        double expected = 0.5625 * Math.Log(4);
        Value(new FocalLoss(gamma: 2).call(RowsWithOdds(3), Labels(0))).Should().BeApproximately(expected, 1e-12);
        Value(new FocalLoss(gamma: 2, alpha: [0.5, 1]).call(RowsWithOdds(3), Labels(0))).Should().BeApproximately(0.5 * expected, 1e-12);
        Value(new FocalLoss(gamma: 0).call(RowsWithOdds(3), Labels(0))).Should().BeApproximately(Math.Log(4), 1e-12);
    }

    [Fact]
    public void Focal_HasAFiniteGradient_WhenTheTargetIsCertain_EvenForGammaBelowOne()
    {
        using var scope = NewDisposeScope();
        Tensor logits = Rows([200, 0]).requires_grad_(true);
        Tensor loss = new FocalLoss(gamma: 0.5).call(logits, Labels(0));
        loss.backward();
        logits.grad!.isfinite().all().item<bool>().Should().BeTrue();
    }

    [Fact]
    public void ClassBalanced_WeighsByInverseEffectiveNumber_NormalisedToTheClassCount()
    {
        using var scope = NewDisposeScope();
        // β = ½, counts [1, 3]: raw weights ½/(1 − ½) = 1 and ½/(1 − ⅛) = 4/7; scaled to sum 2 → 14/11 and 8/11.
        var loss = new ClassBalancedLoss([1, 3], beta: 0.5);
        loss.ClassWeights.Should().Equal([14.0 / 11, 8.0 / 11], (a, b) => Math.Abs(a - b) < 1e-12);
        double expected = (14.0 / 11 * Math.Log(4) + 8.0 / 11 * Math.Log(4.0 / 3)) / 2;
        Value(loss.call(RowsWithOdds(3, 3), Labels(0, 1))).Should().BeApproximately(expected, 1e-12);
        // β close to 1 approaches inverse frequency: weights ∝ 1/n_c.
        new ClassBalancedLoss([1, 3], beta: 1 - 1e-12).ClassWeights[0].Should().BeApproximately(1.5, 1e-6);
    }

    [Fact]
    public void Ghmc_HandValue_WeighsByInverseGradientDensity()
    {
        using var scope = NewDisposeScope();
        // Targets one-hot on class 0. g = |σ(x) − y|: row 1 [.5, .5] (bin 5, 5), row 2 [.018, .018] (bin 0, 0), row 3 [.5, .982] (bin 5, 9).
        // Counts: bin 0 → 2, bin 5 → 3, bin 9 → 1; N = 6 logits, 3 occupied bins: weights 6/(2·3) = 1, 6/(3·3) = ⅔, 6/(1·3) = 2.
        Tensor logits = Rows([0, 0], [4, -4], [0, 4]);
        double ln2 = Math.Log(2), easy = Math.Log(1 + Math.Exp(-4)), outlier = Math.Log(1 + Math.Exp(4));
        double expected = (2.0 / 3 * (3 * ln2) + 1 * (2 * easy) + 2 * outlier) / 6;
        Value(new GhmcLoss(bins: 10, momentum: 0).call(logits, Labels(0, 0, 0))).Should().BeApproximately(expected, 1e-12);

        // With momentum ½ the running counts are ½·count after one call (weights doubled) and ¾·count after two (weights ×4/3).
        var averaged = new GhmcLoss(bins: 10, momentum: 0.5);
        Value(averaged.call(logits, Labels(0, 0, 0))).Should().BeApproximately(2 * expected, 1e-12);
        Value(averaged.call(logits, Labels(0, 0, 0))).Should().BeApproximately(4.0 / 3 * expected, 1e-12);
        averaged.ResetStatistics();
        Value(averaged.call(logits, Labels(0, 0, 0))).Should().BeApproximately(2 * expected, 1e-12);
    }

    [Fact]
    public void Ohem_KeepsTheHardestElements_AndOnlyTheyGetGradient()
    {
        using var scope = NewDisposeScope();
        Tensor logits = RowsWithOdds(1, 4, 2, 3).requires_grad_(true);
        Tensor loss = new OhemLoss(keepCount: 2).call(logits, Labels(0, 0, 0, 0));
        Value(loss).Should().BeApproximately((Math.Log(5) + Math.Log(4)) / 2, 1e-12);
        loss.backward();
        Tensor rowGradient = logits.grad!.abs().sum(1);
        rowGradient.data<double>().ToArray().Select(g => g > 0).Should().Equal(false, true, false, true);
        Value(new OhemLoss(keepRatio: 0.5).call(RowsWithOdds(1, 4, 2, 3), Labels(0, 0, 0, 0))).Should().BeApproximately((Math.Log(5) + Math.Log(4)) / 2, 1e-12);
        new OhemLoss(keepRatio: 0.3).KeptCount(10).Should().Be(3);
        new OhemLoss(keepCount: 64).KeptCount(10).Should().Be(10);
    }

    public static TheoryData<string> Losses => new() { "Smoothing", "Focal", "FocalHalf", "ClassBalanced", "Ghmc", "Ohem" };

    private static LogitLoss Make(string name) => name switch
    {
        "Smoothing" => new LabelSmoothingCrossEntropyLoss(0.1),
        "Focal" => new FocalLoss(gamma: 2, alpha: [0.25, 1, 0.5]),
        "FocalHalf" => new FocalLoss(gamma: 0.5),
        "ClassBalanced" => new ClassBalancedLoss([10, 2, 5], beta: 0.9, gamma: 1),
        // Momentum 0: the moving average would change the weights between the finite-difference evaluations.
        "Ghmc" => new GhmcLoss(bins: 10, momentum: 0),
        "Ohem" => new OhemLoss(keepCount: 2),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Losses))]
    public void Gradient_MatchesFiniteDifferences(string name)
    {
        LogitLoss loss = Make(name);
        // No σ(x) − y lands on a GHM bin edge (k/10), where the bin weights jump.
        Tensor logits = Rows([2.0, -1.0, 0.5], [0.1, 0.2, 3.0], [-2.0, 1.5, 0.3]);
        GradientCheck.AssertMatches(x => loss.call(x, Labels(0, 1, 2)), logits);
    }

    [Fact]
    public void BadInput_IsRejected_WithAClearMessage()
    {
        using var scope = NewDisposeScope();
        var loss = new FocalLoss();
        loss.Invoking(l => l.call(zeros(2, 3), Labels(0, 5))).Should().Throw<ArgumentException>().WithMessage("*0..2*5*");
        loss.Invoking(l => l.call(zeros(2, 3), Labels(0))).Should().Throw<ArgumentException>().WithMessage("*2 rows*1 labels*");
        loss.Invoking(l => l.call(Rows([double.NaN, 0]), Labels(0))).Should().Throw<ArgumentException>().WithMessage("*NaN*");
        new FocalLoss(alpha: [1]).Invoking(l => l.call(zeros(1, 3), Labels(0))).Should().Throw<ArgumentException>().WithMessage("*3 classes*1 weights*");
        FluentActions.Invoking(() => new ClassBalancedLoss([3, 0])).Should().Throw<ArgumentException>().WithMessage("*Class 1 has 0 samples*");
        FluentActions.Invoking(() => new OhemLoss(keepRatio: 0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new LabelSmoothingCrossEntropyLoss(1.5)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
