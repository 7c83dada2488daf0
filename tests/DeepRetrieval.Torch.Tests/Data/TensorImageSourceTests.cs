using DeepRetrieval.Data;
using DeepRetrieval.Torch.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Data;

public sealed class TensorImageSourceTests
{
    [Fact]
    public void ReadBatches_AreConsecutiveSlices_WithTheGivenIdsAndLabels()
    {
        using var scope = NewDisposeScope();
        Tensor images = arange(5 * 12, ScalarType.Float32).reshape(5, 3, 2, 2);
        var source = new TensorImageSource(images, [10, 11, 12, 13, 14], [0, 0, 1, 1, 2]);

        var batches = source.ReadBatches(2).ToList();

        batches.Select(b => b.Ids).Should().BeEquivalentTo(new[] { new long[] { 10, 11 }, [12, 13], [14] }, o => o.WithStrictOrdering());
        batches[2].Labels.Should().Equal(2);
        batches[1].Images.allclose(images[2..4], 0, 0).Should().BeTrue();
        source.Count.Should().Be(5);
    }

    [Fact]
    public void FromIdx_ScalesPixelsToUnitRange_ThenStandardises()
    {
        using var scope = NewDisposeScope();
        var idx = new IdxImages(2, 1, 2, [0, 255, 51, 102]);
        using var source = TensorImageSource.FromIdx(idx, [3, 4], mean: 0.2f, std: 0.5f);

        source.Images.shape.Should().Equal(2, 1, 1, 2);
        source.Images.flatten().data<float>().ToArray().Should().Equal([-0.4f, 1.6f, 0f, 0.4f], (a, b) => Math.Abs(a - b) < 1e-6);
        source.ReadBatches(5).Single().Labels.Should().Equal(3, 4);
    }

    [Fact]
    public void Constructor_RejectsNonImageTensors_AndMismatchedIds()
    {
        using var scope = NewDisposeScope();
        FluentActions.Invoking(() => new TensorImageSource(zeros(2, 3))).Should().Throw<ArgumentException>().WithMessage("*N × C × H × W*");
        FluentActions.Invoking(() => new TensorImageSource(zeros(2, 1, 2, 2), [1])).Should().Throw<ArgumentException>().WithMessage("*2 ids*");
        FluentActions.Invoking(() => TensorImageSource.FromIdx(new IdxImages(1, 1, 1, [0]), std: 0)).Should().Throw<ArgumentException>().WithMessage("*std*");
    }
}
