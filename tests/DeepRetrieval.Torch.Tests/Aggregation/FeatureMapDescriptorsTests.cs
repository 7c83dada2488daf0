using DeepRetrieval.Aggregation;
using DeepRetrieval.Torch.Aggregation;
using DeepRetrieval.Torch.Backbones;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Aggregation;

public class FeatureMapDescriptorsTests
{
    [Fact]
    public void Extract_TurnsEveryCellOfAStageIntoADescriptor_PlacedByTheStageStride()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var backbone = new SmallCnn();
        backbone.eval();
        Tensor images = randn(2, 1, 28, 28);
        DeepLocalFeatures[] features = FeatureMapDescriptors.Extract(backbone, images, "block2");
        features.Should().HaveCount(2);
        // block2: 64 channels at stride 2 → 14 × 14 cells.
        features[0].Count.Should().Be(14 * 14);
        features[0].Dimension.Should().Be(64);
        features[0].X.Should().OnlyContain(x => (x + 0.5f) % 2 == 1f);
        Tensor map;
        using (no_grad()) map = backbone.ForwardStages(images, "block2")[0];
        DeepLocalFeatures direct = FeatureMapCells.FromChannelsFirst(map[1].contiguous().data<float>().ToArray(), 64, 14, 14, new FeatureMapCellOptions { Stride = 2 });
        features[1].Descriptors.Should().Equal(direct.Descriptors);
        features[1].Strengths.Should().BeInDescendingOrder();
    }

    [Fact]
    public void Extract_KeepsTheStrongestCells_AndFeedsVlad()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var backbone = new SmallCnn();
        backbone.eval();
        DeepLocalFeatures[] features = FeatureMapDescriptors.Extract(backbone, randn(1, 1, 28, 28), "block3", maxCells: 20);
        features[0].Count.Should().Be(20);
        var vocabulary = VisualVocabulary.Train(features[0].Descriptors, 128, 4);
        float[] vlad = new VladEncoder(vocabulary).Encode(features[0].Descriptors);
        vlad.Length.Should().Be(4 * 128);
        System.Numerics.Tensors.TensorPrimitives.Norm(vlad).Should().BeApproximately(1f, 1e-5f);
    }

    [Fact]
    public void FromMaps_RejectsMapsThatAreNotFourDimensional()
    {
        using var scope = NewDisposeScope();
        FluentActions.Invoking(() => FeatureMapDescriptors.FromMaps(zeros(3, 4))).Should().Throw<ArgumentException>().WithMessage("*4-D*");
        FluentActions.Invoking(() => FeatureMapDescriptors.Extract(new SmallCnn(), zeros(1, 1, 28, 28), "nope")).Should().Throw<ArgumentException>().WithMessage("*not a stage*");
    }
}
