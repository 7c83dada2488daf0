using DeepRetrieval.Aggregation;

namespace DeepRetrieval.Tests.Aggregation;

public class FeatureMapCellsTests
{
    // Two channels over a 2 × 2 map: channel 0 = [[3, 0], [1, 0]], channel 1 = [[4, 0], [0, 2]].
    // Cells (row-major) are (3, 4), (0, 0), (1, 0), (0, 2) with norms 5, 0, 1, 2.
    private static readonly float[] Map = [3, 0, 1, 0, 4, 0, 0, 2];

    [Fact]
    public void FromChannelsFirst_MakesOneDescriptorPerCell_StrongestFirst()
    {
        DeepLocalFeatures cells = FeatureMapCells.FromChannelsFirst(Map, 2, 2, 2, new FeatureMapCellOptions { Stride = 16, L2Normalize = false });
        cells.Count.Should().Be(4);
        cells.Dimension.Should().Be(2);
        cells.Strengths.Should().Equal(5f, 2f, 1f, 0f);
        cells.Descriptors.Should().Equal(3f, 4f, 0f, 2f, 1f, 0f, 0f, 0f);
        // Cell (row 1, column 1) has its centre at (1.5 · 16 − 0.5, 1.5 · 16 − 0.5).
        cells.X.Should().Equal(7.5f, 23.5f, 7.5f, 23.5f);
        cells.Y.Should().Equal(7.5f, 23.5f, 23.5f, 7.5f);
    }

    [Fact]
    public void MaxCellsAndNormalisation_KeepTheStrongestUnitDescriptors()
    {
        DeepLocalFeatures cells = FeatureMapCells.FromChannelsFirst(Map, 2, 2, 2, new FeatureMapCellOptions { MaxCells = 2 });
        cells.Count.Should().Be(2);
        cells.Descriptors.Should().Equal(0.6f, 0.8f, 0f, 1f);
    }

    [Fact]
    public void BadArguments_AreRejected()
    {
        FluentActions.Invoking(() => FeatureMapCells.FromChannelsFirst(Map, 2, 2, 3)).Should().Throw<ArgumentException>().WithMessage("*12 values; got 8*");
        FluentActions.Invoking(() => FeatureMapCells.FromChannelsFirst(Map, 2, 2, 2, new FeatureMapCellOptions { Stride = 0 })).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => FeatureMapCells.FromChannelsFirst([float.NaN], 1, 1, 1)).Should().Throw<ArgumentException>().WithMessage("*finite*");
    }
}
