using DeepRetrieval.Torch.Augmentation;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Augmentation;

public class MixerTests
{
    // Sample i is the constant image i + 1 with label i, so every mixed pixel shows which samples it came from.
    private static (Tensor Images, Tensor Labels) ConstantBatch(long n, long h = 10, long w = 12) =>
        ((arange(n, ScalarType.Float64) + 1).view(-1, 1, 1, 1).expand(n, 2, h, w).contiguous(), arange(n, ScalarType.Int64));

    [Fact]
    public void Mixup_IsAConvexCombinationOfEachSampleAndItsPartner()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = ConstantBatch(8);
        MixedBatch mixed = new Mixup(0.4).Apply(images, labels, new Generator(1));
        mixed.Lambda.Should().BeInRange(0, 1);
        mixed.LabelsA.IsEqualTo(labels).Should().BeTrue();
        mixed.LabelsB.sort().Values.IsEqualTo(labels).Should().BeTrue("the partners are a permutation of the batch");
        Tensor own = labels.to(ScalarType.Float64) + 1, partner = mixed.LabelsB.to(ScalarType.Float64) + 1;
        Tensor expected = (mixed.Lambda * own + (1 - mixed.Lambda) * partner).view(-1, 1, 1, 1).expand_as(images);
        mixed.Images.allclose(expected, rtol: 0, atol: 1e-12).Should().BeTrue();
    }

    [Fact]
    public void Mixup_LambdaFollowsBetaAlphaAlpha()
    {
        var generator = new Generator(2);
        using var scope = NewDisposeScope();
        var (images, labels) = ConstantBatch(2, 1, 1);
        var mixup = new Mixup(0.2);
        double[] lambdas = Enumerable.Range(0, 2000).Select(_ => mixup.Apply(images, labels, generator).Lambda).ToArray();
        // Beta(0.2, 0.2): mean 1/2, variance 1 / (4 (2α + 1)) = 0.1786; mass piles up near 0 and 1.
        lambdas.Average().Should().BeApproximately(0.5, 0.03);
        lambdas.Select(l => (l - 0.5) * (l - 0.5)).Average().Should().BeApproximately(0.1786, 0.015);
    }

    [Fact]
    public void CutMix_LambdaIsExactlyTheFractionOfPixelsKeptFromTheOriginal()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = ConstantBatch(6);
        for (int seed = 0; seed < 10; seed++)
        {
            MixedBatch mixed = new CutMix(1).Apply(images, labels, new Generator((ulong)seed));
            Tensor own = (labels + 1).to(ScalarType.Float64).view(-1, 1, 1, 1);
            Tensor partner = (mixed.LabelsB + 1).to(ScalarType.Float64).view(-1, 1, 1, 1);
            (mixed.Images == own).logical_or(mixed.Images == partner).all().item<bool>().Should().BeTrue();
            Tensor pasted = (mixed.Images != own).any(1); // N × H × W, meaningful where the partner differs
            Tensor differs = mixed.LabelsB != labels;
            if (!differs.any().item<bool>()) continue;
            long i = differs.nonzero()[0, 0].item<long>();
            double kept = 1 - pasted[i].to(ScalarType.Float64).mean().item<double>();
            kept.Should().Be(mixed.Lambda, $"seed {seed}: λ is the exact kept fraction");
            // One box for the whole batch: every sample with a different partner has the same pasted region.
            foreach (long j in differs.nonzero().squeeze(1).data<long>().ToArray())
                pasted[j].IsEqualTo(pasted[i]).Should().BeTrue();
        }
    }

    [Fact]
    public void Mixers_SameSeedGiveIdenticalBatches_AndRejectMismatchedLabels()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = ConstantBatch(8);
        foreach (IBatchMixer mixer in new IBatchMixer[] { new Mixup(1), new CutMix(1) })
        {
            MixedBatch a = mixer.Apply(images, labels, new Generator(3)), b = mixer.Apply(images, labels, new Generator(3));
            a.Images.IsEqualTo(b.Images).Should().BeTrue();
            a.Lambda.Should().Be(b.Lambda);
            MixedBatch c = mixer.Apply(images, labels, new Generator(4));
            (c.Images.IsEqualTo(a.Images) && c.Lambda == a.Lambda).Should().BeFalse();
            mixer.Invoking(m => m.Apply(images, arange(5), new Generator(3))).Should().Throw<ArgumentException>().WithMessage("*8 images*");
        }
        FluentActions.Invoking(() => new Mixup(0)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void MixedBatch_Combine_WeightsTheTwoLossesByLambda()
    {
        using var scope = NewDisposeScope();
        var batch = new MixedBatch(zeros(1, 1, 1, 1), tensor(new long[] { 0 }), tensor(new long[] { 1 }), 0.25);
        Tensor loss = batch.Combine(l => (l.to(ScalarType.Float64) * 4 + 2).sum());
        loss.item<double>().Should().Be(0.25 * 2 + 0.75 * 6);
    }
}
