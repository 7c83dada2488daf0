using DeepRetrieval.Data;
using DeepRetrieval.Torch.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Data;

public sealed class TensorImageSetTests
{
    [Fact]
    public void Gather_ReturnsScaledNormalisedImages_AndTheirLabels()
    {
        using var scope = NewDisposeScope();
        Tensor images = tensor(new byte[] { 0, 51, 102, 255 }).reshape(4, 1, 1, 1);
        using var set = new TensorImageSet(images, tensor(new long[] { 7, 8, 9, 10 }), [0.2f], [0.4f]);

        var (batch, labels) = set.Gather([3L, 1]);

        batch.dtype.Should().Be(ScalarType.Float32);
        batch.data<float>()[0].Should().BeApproximately(2f, 1e-6f);   // (1 − 0.2) / 0.4
        batch.data<float>()[1].Should().BeApproximately(0f, 1e-6f);   // (0.2 − 0.2) / 0.4
        labels.data<long>().ToArray().Should().Equal(10, 8);
        set.Invoking(s => s.Gather([4L])).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void ReadBatches_AreConsecutiveSlices_WithTheGivenIdsAndLabels()
    {
        using var scope = NewDisposeScope();
        Tensor images = arange(5 * 12, ScalarType.Float32).reshape(5, 3, 2, 2);
        using var set = new TensorImageSet(images, tensor(new long[] { 0, 0, 1, 1, 2 }), ids: [10, 11, 12, 13, 14]);

        var batches = set.ReadBatches(2).ToList();

        batches.Select(b => b.Ids).Should().BeEquivalentTo(new[] { new long[] { 10, 11 }, [12, 13], [14] }, o => o.WithStrictOrdering());
        batches[2].Labels.Should().Equal(2);
        batches[1].Images.allclose(images[2..4], 0, 0).Should().BeTrue();
        set.Count.Should().Be(5);
    }

    [Fact]
    public void ReadBatches_DefaultToSequentialIds_AndNoLabels_AndLeaveAFloatSetUnchanged()
    {
        using var scope = NewDisposeScope();
        Tensor images = full(3, 2, 1, 1, 0.5f);
        using var set = new TensorImageSet(images, mean: [0.25f, 0.5f], std: [0.5f, 0.25f]);

        ImageBatch batch = set.ReadBatches(10).Single();

        batch.Ids.Should().Equal(0, 1, 2);
        batch.Labels.Should().BeNull();
        set.Labels.Should().BeNull();
        batch.Images[0].flatten().data<float>().ToArray().Should().Equal(0.5f, 0f);   // (0.5 − 0.25) / 0.5, (0.5 − 0.5) / 0.25
        images.eq(0.5f).all().item<bool>().Should().BeTrue("normalising a slice must not write into the caller's images");
        set.Invoking(s => s.Gather([0L])).Should().Throw<InvalidOperationException>().WithMessage("*no labels*");
    }

    [Fact]
    public void FromIdx_KeepsUint8Pixels_AndBatchesScaleToUnitRangeThenStandardise()
    {
        using var scope = NewDisposeScope();
        var idx = new IdxImages(2, 1, 2, [0, 255, 51, 102]);
        using var set = TensorImageSet.FromIdx(idx, [3, 4], mean: 0.2f, std: 0.5f);

        set.ImageShape.Should().Be((1L, 1L, 2L));
        set.Mean.Should().Equal(0.2f);
        ImageBatch batch = set.ReadBatches(5).Single();
        batch.Images.flatten().data<float>().ToArray().Should().Equal([-0.4f, 1.6f, 0f, 0.4f], (a, b) => Math.Abs(a - b) < 1e-6);
        batch.Labels.Should().Equal(3, 4);
    }

    [Fact]
    public void Constructor_RejectsNonImageTensors_AndMismatchedLabelsIdsOrChannels()
    {
        using var scope = NewDisposeScope();
        Tensor images = zeros(4, 1, 1, 1, ScalarType.Byte);
        FluentActions.Invoking(() => new TensorImageSet(zeros(2, 3))).Should().Throw<ArgumentException>().WithMessage("*N × C × H × W*");
        FluentActions.Invoking(() => new TensorImageSet(zeros(2, 1, 2, 2, ScalarType.Int32))).Should().Throw<ArgumentException>().WithMessage("*uint8 or floating point*");
        FluentActions.Invoking(() => new TensorImageSet(images, tensor(new long[] { 1, 2 }))).Should().Throw<ArgumentException>().WithMessage("*4 images but 2 labels*");
        FluentActions.Invoking(() => new TensorImageSet(images, ids: [1])).Should().Throw<ArgumentException>().WithMessage("*4 ids*");
        FluentActions.Invoking(() => new TensorImageSet(images, mean: [0f, 0f])).Should().Throw<ArgumentException>().WithMessage("*mean has 2 values*");
        FluentActions.Invoking(() => TensorImageSet.FromIdx(new IdxImages(1, 1, 1, [0]), std: 0)).Should().Throw<ArgumentException>().WithMessage("*std*");
    }
}
