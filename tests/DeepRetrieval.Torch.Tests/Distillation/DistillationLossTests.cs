using DeepRetrieval.Torch.Distillation;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Distillation;

public class DistillationLossTests
{
    // Reference values (Fixtures/reference_values.py) come from the RKD authors' code (lenscloth/RKD, metric/loss.py) and straightforward PyTorch
    // transcriptions of the other losses, run in float64 with torch 1.13:
    //   def simdist(s, t, T):
    //       def offdiag(x):
    //           sim = F.normalize(x, dim=1) @ F.normalize(x, dim=1).t() / T
    //           n = len(x); return sim[~torch.eye(n, dtype=torch.bool)].view(n, n - 1)
    //       ps = F.log_softmax(offdiag(s), 1); pt = F.log_softmax(offdiag(t), 1)
    //       return T * T * (pt.exp() * (pt - ps)).sum(1).mean()
    //   def sp(s, t):
    //       gs = F.normalize(s @ s.t(), dim=1); gt = F.normalize(t @ t.t(), dim=1)
    //       return ((gs - gt) ** 2).sum() / len(s) ** 2
    private static Tensor Rows(params double[][] rows) =>
        tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length], ScalarType.Float64);

    [Fact]
    public void DirectLoss_MeanSquaredError_MatchesHandValue()
    {
        using var scope = NewDisposeScope();
        Tensor student = Rows([1, 0], [0, 1], [1, 1]);
        // Teacher = 2 · student, so the differences are −student: squares 1, 0, 0, 1, 1, 1 over 6 components.
        double loss = new DirectDistillationLoss(2, 2).call(student, student * 2).item<double>();
        loss.Should().BeApproximately(4.0 / 6, 1e-15);
    }

    [Fact]
    public void DirectLoss_Cosine_MatchesHandValue()
    {
        using var scope = NewDisposeScope();
        Tensor student = Rows([1, 0], [0, 1], [1, 1]);
        Tensor teacher = Rows([0, 1], [0, 3], [2, 2]);
        // Cosines 0, 1, 1: mean of 1 − cos is 1/3.
        double loss = new DirectDistillationLoss(2, 2, EmbeddingMatch.Cosine).call(student, teacher).item<double>();
        loss.Should().BeApproximately(1.0 / 3, 1e-12);
    }

    [Fact]
    public void DirectLoss_ProjectsTheStudentWhenWidthsDiffer_AndTrainsTheProjection()
    {
        using var scope = NewDisposeScope();
        var loss = new DirectDistillationLoss(2, 3).to(ScalarType.Float64);
        loss.Projection.Should().NotBeNull();
        using (no_grad()) loss.Projection!.weight!.copy_(tensor(new double[] { 1, 0, 0, 1, 1, 1 }, [3, 2]));
        Tensor student = Rows([1, 2], [3, 4], [0, 1]);
        // W·s = (1, 2, 3), (3, 4, 7), (0, 1, 1); against a zero teacher the loss is the mean square: (14 + 74 + 2) / 9 = 10.
        Tensor value = loss.call(student, zeros(3, 3, ScalarType.Float64));
        value.item<double>().Should().BeApproximately(10, 1e-12);
        value.backward();
        loss.Projection.weight!.grad.Should().NotBeNull();
        new DirectDistillationLoss(4, 4).Projection.Should().BeNull("equal widths need no projection by default");
        new DirectDistillationLoss(4, 4, alwaysProject: true).parameters().Should().ContainSingle();
    }

    [Fact]
    public void RkdDistance_MatchesHandValue()
    {
        using var scope = NewDisposeScope();
        Tensor student = Rows([0, 0], [1, 0], [0, 1]);
        Tensor teacher = Rows([0, 0], [2, 0], [0, 1]);
        // Distances (01, 02, 12): student 1, 1, √2 with mean (2 + √2)/3; teacher 2, 1, √5 with mean (3 + √5)/3.
        // Each pair appears twice among the 9 entries (the diagonal is 0 in both); all differences are below 1, so
        // smooth-L1 is ½·d² and the loss is (2/9)·Σ_pairs ½·(s/s̄ − t/t̄)².
        double sMean = (2 + Math.Sqrt(2)) / 3, tMean = (3 + Math.Sqrt(5)) / 3;
        double[] s = [1 / sMean, 1 / sMean, Math.Sqrt(2) / sMean], t = [2 / tMean, 1 / tMean, Math.Sqrt(5) / tMean];
        double expected = 2.0 / 9 * s.Zip(t, (a, b) => 0.5 * (a - b) * (a - b)).Sum();
        expected.Should().BeApproximately(0.018484453276125513, 1e-15, "the authors' code gives this value");
        new RkdDistanceLoss().call(student, teacher).item<double>().Should().BeApproximately(expected, 1e-12);
        // Relative distances only: scaling or rotating the student changes nothing.
        Tensor rotation = Rows([0, -1], [1, 0]);
        new RkdDistanceLoss().call(student.matmul(rotation) * 7 + 3, teacher).item<double>().Should().BeApproximately(expected, 1e-12);
    }

    [Fact]
    public void RkdAngle_MatchesHandValue()
    {
        using var scope = NewDisposeScope();
        // Cosines of the angle at each vertex: student (right angle at 0, 45° at 1 and 2) 0, 1/√2, 1/√2; teacher
        // (right angle at 1) 1/√2, 0, 1/√2. Two vertices differ by 1/√2, each counted for (j, k) and (k, j): smooth-L1
        // gives 4 · ½ · ½ = 1 over the 27 entries (every other entry is 0 or 1 in both).
        Tensor student = Rows([0, 0], [1, 0], [0, 1]);
        Tensor teacher = Rows([0, 0], [1, 0], [1, 1]);
        new RkdAngleLoss().call(student, teacher).item<double>().Should().BeApproximately(1.0 / 27, 1e-12);
    }

    [Fact]
    public void SimilarityDistribution_MatchesHandValue()
    {
        using var scope = NewDisposeScope();
        Tensor student = Rows([1, 0], [0, 1], [1, 1]);
        Tensor teacher = Rows([1, 0], [1, 1], [0, 1]);
        // Off-diagonal cosines, row by row: student [0, c], [0, c], [c, c]; teacher [c, 0], [c, c], [0, c] with c = 1/√2.
        // With a = σ(c/τ), b = 1 − a the rows are two-way softmaxes: KL₀ = (a − b)·ln(a/b), KL₁ = ½ln(½/b) + ½ln(½/a),
        // KL₂ = b·ln(2b) + a·ln(2a); the loss is τ²·(KL₀ + KL₁ + KL₂)/3.
        foreach ((double temperature, double reference) in new[] { (1.0, 0.12003954271361365), (0.5, 0.10763214644756845) })
        {
            double c = 1 / Math.Sqrt(2), a = 1 / (1 + Math.Exp(-c / temperature)), b = 1 - a;
            double expected = temperature * temperature * ((a - b) * Math.Log(a / b) + 0.5 * Math.Log(0.5 / b) + 0.5 * Math.Log(0.5 / a) + b * Math.Log(2 * b) + a * Math.Log(2 * a)) / 3;
            expected.Should().BeApproximately(reference, 1e-14);
            new SimilarityDistributionLoss(temperature).call(student, teacher).item<double>().Should().BeApproximately(expected, 1e-12);
        }
        new SimilarityDistributionLoss().call(student, student * 3).item<double>().Should().BeApproximately(0, 1e-12, "equal similarity patterns");
    }

    [Fact]
    public void SimilarityPreserving_MatchesHandValue()
    {
        using var scope = NewDisposeScope();
        Tensor student = Rows([1, 0], [0, 1], [1, 1]);
        Tensor teacher = Rows([1, 0], [1, 1], [0, 1]);
        // Gram rows: student (1, 0, 1), (0, 1, 1), (1, 1, 2); teacher (1, 1, 0), (1, 2, 1), (0, 1, 1); each row divided by its
        // norm, then the squared Frobenius distance over N² = 9.
        double[][] gs = [[1, 0, 1], [0, 1, 1], [1, 1, 2]], gt = [[1, 1, 0], [1, 2, 1], [0, 1, 1]];
        static double[] Unit(double[] r) { double n = Math.Sqrt(r.Sum(v => v * v)); return r.Select(v => v / n).ToArray(); }
        double expected = gs.Zip(gt, (x, y) => Unit(x).Zip(Unit(y), (p, q) => (p - q) * (p - q)).Sum()).Sum() / 9;
        expected.Should().BeApproximately(0.17065537609580503, 1e-14);
        new SimilarityPreservingLoss().call(student, teacher).item<double>().Should().BeApproximately(expected, 1e-12);
    }

    [Fact]
    public void Losses_GradientsMatchFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        Tensor student = randn([5, 3], ScalarType.Float64, generator: new Generator(1));
        Tensor teacher = randn([5, 4], ScalarType.Float64, generator: new Generator(2));
        var projected = new DirectDistillationLoss(3, 4).to(ScalarType.Float64);
        var cosine = new DirectDistillationLoss(3, 4, EmbeddingMatch.Cosine).to(ScalarType.Float64);
        DistillationLoss[] losses = [projected, cosine, new RkdDistanceLoss(), new RkdAngleLoss(), new SimilarityDistributionLoss(0.5), new SimilarityPreservingLoss()];
        foreach (DistillationLoss loss in losses)
            GradientCheck.AssertMatches(x => loss.call(x, teacher), student);
    }

    [Fact]
    public void Losses_RejectBadInput()
    {
        using var scope = NewDisposeScope();
        Tensor three = randn(3, 2);
        var rkd = new RkdDistanceLoss();
        rkd.Invoking(l => l.call(three, randn(4, 2))).Should().Throw<ArgumentException>().WithMessage("*3 student*4 teacher*");
        rkd.Invoking(l => l.call(randn(1, 2), randn(1, 2))).Should().Throw<ArgumentException>().WithMessage("*at least 2 rows*");
        rkd.Invoking(l => l.call(three, full(3, 2, double.NaN))).Should().Throw<ArgumentException>().WithMessage("*NaN*");
        rkd.Invoking(l => l.call(randn(3), three)).Should().Throw<ArgumentException>().WithMessage("*2-D*");
        new DirectDistillationLoss(2, 5).Invoking(l => l.call(three, randn(3, 4))).Should().Throw<ArgumentException>().WithMessage("*5 components*4*");
        FluentActions.Invoking(() => new SimilarityDistributionLoss(0)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
