using DeepRetrieval.Torch.Miners;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Miners;

public class IndexTupleOpsTests
{
    private static long[] L(Tensor t) => t.data<long>().ToArray();

    [Fact]
    public void AllPairs_ListsEveryPositiveAndNegativePair_WithoutSelfPairs()
    {
        using var scope = NewDisposeScope();
        PairTuples pairs = IndexTupleOps.AllPairs(tensor(new long[] { 0, 0, 1 }));
        L(pairs.PositiveAnchors).Should().Equal(0, 1);
        L(pairs.Positives).Should().Equal(1, 0);
        L(pairs.NegativeAnchors).Should().Equal(0, 1, 2, 2);
        L(pairs.Negatives).Should().Equal(2, 2, 0, 1);
    }

    [Fact]
    public void AllTriplets_WithReferenceSet_KeepsSameIndexPairs()
    {
        using var scope = NewDisposeScope();
        TripletTuples t = IndexTupleOps.AllTriplets(tensor(new long[] { 0, 1 }), tensor(new long[] { 0, 1 }));
        L(t.Anchors).Should().Equal(0, 1);
        L(t.Positives).Should().Equal(0, 1);
        L(t.Negatives).Should().Equal(1, 0);
    }

    [Fact]
    public void ToTriplets_CombinesPairsThatShareAnAnchor_AndToPairsSplitsTriplets()
    {
        using var scope = NewDisposeScope();
        var pairs = new PairTuples(tensor(new long[] { 0, 1 }), tensor(new long[] { 1, 0 }), tensor(new long[] { 0, 0, 2 }), tensor(new long[] { 2, 3, 0 }));
        TripletTuples t = IndexTupleOps.ToTriplets(pairs, tensor(new long[] { 0, 0, 1, 1 }));
        L(t.Anchors).Should().Equal(0, 0);
        L(t.Positives).Should().Equal(1, 1);
        L(t.Negatives).Should().Equal(2, 3);
        PairTuples back = IndexTupleOps.ToPairs(t, tensor(new long[] { 0, 0, 1, 1 }));
        L(back.NegativeAnchors).Should().Equal(0, 0);
        L(back.Negatives).Should().Equal(2, 3);
    }

    [Fact]
    public void AllPairs_RejectsNonIntegerLabels()
    {
        using var scope = NewDisposeScope();
        var act = () => IndexTupleOps.AllPairs(zeros(3));
        act.Should().Throw<ArgumentException>().WithMessage("*integers*");
    }
}
