using DeepRetrieval.Torch.Distillation;
using DeepRetrieval.Torch.Losses;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Distillation;

public class DistillerTests
{
    [Fact]
    public void Forward_RunsTheTeacherInEvalWithoutGradient_AndWeightsTheLosses()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var teacher = nn.Sequential(nn.Linear(6, 4), nn.Dropout(0.5));
        var student = nn.Linear(6, 4);
        var distillation = new RkdDistanceLoss();
        var task = new ContrastiveLoss();
        var distiller = new Distiller(teacher, student, distillation, 2.0, task, 0.5);
        teacher.train();
        student.train();

        Tensor inputs = randn(8, 6);
        Tensor labels = tensor(new long[] { 0, 0, 1, 1, 2, 2, 3, 3 });
        DistillationOutput output = distiller.Forward(inputs, labels);
        teacher.training.Should().BeFalse("the teacher always runs in eval mode (no dropout)");
        using (no_grad()) output.TeacherEmbeddings.allclose(teacher.call(inputs)).Should().BeTrue("eval mode is deterministic");
        output.TeacherEmbeddings.requires_grad.Should().BeFalse();
        output.TaskLoss.Should().NotBeNull();
        output.Loss.item<float>().Should().BeApproximately(2 * output.DistillationLoss.item<float>() + 0.5f * output.TaskLoss!.item<float>(), 1e-5f);

        output.Loss.backward();
        teacher.parameters().Select(p => p.grad).Should().AllSatisfy(g => g.Should().BeNull());
        student.parameters().Select(p => p.grad).Should().AllSatisfy(g => g.Should().NotBeNull());
        distiller.TrainableParameters().Should().HaveCount(2).And.BeEquivalentTo(student.parameters());
        distiller.Invoking(d => d.Forward(inputs)).Should().Throw<ArgumentException>().WithMessage("*labels*");
    }

    [Fact]
    public void TrainableParameters_IncludeTheProjectionButNeverTheTeacher()
    {
        using var scope = NewDisposeScope();
        var teacher = nn.Linear(6, 8);
        var student = nn.Linear(6, 3);
        var distiller = new Distiller(teacher, student, new DirectDistillationLoss(3, 8));
        distiller.TrainableParameters().Should().HaveCount(3);
        FluentActions.Invoking(() => new Distiller(teacher, teacher, new RkdDistanceLoss())).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new Distiller(teacher, student, new RkdDistanceLoss(), -1)).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Forward_WithCombinedRkdLossesAndATripletTaskLoss_AddsTheWeightedParts()
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        var teacher = nn.Linear(6, 5);
        var student = nn.Linear(6, 3);
        var distance = new RkdDistanceLoss();
        var angle = new RkdAngleLoss();
        var distiller = new Distiller(teacher, student, new WeightedLossSum((distance, 25.0), (angle, 50.0)), taskLoss: new DeepRetrieval.Torch.Losses.TripletMarginLoss(0.1));
        Tensor inputs = randn(6, 6);
        Tensor labels = tensor(new long[] { 0, 0, 1, 1, 2, 2 });
        DistillationOutput output = distiller.Forward(inputs, labels);
        float expected = 25 * distance.call(output.StudentEmbeddings, output.TeacherEmbeddings).item<float>()
            + 50 * angle.call(output.StudentEmbeddings, output.TeacherEmbeddings).item<float>();
        output.DistillationLoss.item<float>().Should().BeApproximately(expected, 1e-4f);
        output.Loss.item<float>().Should().BeApproximately(expected + output.TaskLoss!.item<float>(), 1e-4f);
    }

    // Teacher: a 16 → 8 linear map of rank 4, so a 4-wide student can reproduce its geometry exactly.
    private static Sequential RankFourTeacher()
    {
        var teacher = nn.Sequential(nn.Linear(16, 4, hasBias: false), nn.Linear(4, 8, hasBias: false));
        using (no_grad())
        {
            var generator = new Generator(11);
            // Scaled by 1/√fan-in so the teacher's outputs are of unit size, as a trained embedding would be.
            foreach (Parameter p in teacher.parameters()) p.copy_(randn(p.shape, generator: generator) / Math.Sqrt(p.shape[1]));
        }
        return teacher;
    }

    // Fraction of points whose nearest other point is the same under both embeddings.
    private static double NeighbourAgreement(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        Tensor Nearest(Tensor e)
        {
            Tensor d = cdist(e, e) + eye(e.shape[0], dtype: e.dtype) * 1e30;
            return d.argmin(1);
        }
        return (Nearest(a) == Nearest(b)).to(ScalarType.Float64).mean().item<double>();
    }

    [Theory]
    [InlineData("direct")]
    [InlineData("projected")]
    [InlineData("relational")]
    public void Student_TrainedAFewHundredSteps_AgreesWithTheTeachersNeighbours(string kind)
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var teacher = RankFourTeacher();
        // "direct" regresses the teacher at its own width; "projected" is a narrower student whose learned projection
        // regresses the teacher (compared through the projection, as trained); "relational" is the narrow student alone.
        var student = nn.Linear(16, kind == "direct" ? 8 : 4);
        DistillationLoss loss = kind switch
        {
            "direct" => new DirectDistillationLoss(8, 8),
            "projected" => new DirectDistillationLoss(4, 8),
            _ => new RkdDistanceLoss(),
        };
        var distiller = new Distiller(teacher, student, loss);
        Tensor Embed(Tensor x) => loss is DirectDistillationLoss { Projection: { } projection } ? projection.call(student.call(x)) : student.call(x);
        Tensor heldOut = randn([200, 16], generator: new Generator(12));
        double before;
        using (no_grad()) before = NeighbourAgreement(Embed(heldOut), teacher.call(heldOut));

        var optimizer = optim.Adam(distiller.TrainableParameters(), lr: 0.05);
        var batches = new Generator(13);
        for (int step = 0; step < 200; step++)
        {
            using var stepScope = NewDisposeScope();
            optimizer.zero_grad();
            distiller.Forward(randn([32, 16], generator: batches)).Loss.backward();
            optimizer.step();
        }

        double after;
        using (no_grad()) after = NeighbourAgreement(Embed(heldOut), teacher.call(heldOut));
        Console.WriteLine($"{kind}: neighbour agreement {before:F3} -> {after:F3}");
        before.Should().BeLessThan(0.5, "an untrained student does not share the teacher's neighbours");
        after.Should().BeGreaterThan(0.9, $"after distillation ({kind}) the student should share the teacher's neighbours");
    }
}
