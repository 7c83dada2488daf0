using DeepRetrieval.Torch.Distances;
using DeepRetrieval.Torch.Miners;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Miners;

public class MinerTests
{
    private static long[] L(Tensor t) => t.data<long>().ToArray();

    private static Tensor Points(params double[] xs) => tensor(xs, [xs.Length, 1], ScalarType.Float64);

    private static Tensor Labels(params long[] labels) => tensor(labels);

    // Plain |x − y| on 1-D points, so expected tuples can be worked out by hand.
    private static LpDistance Plain => new(normalizeEmbeddings: false);

    private static (long, long, long)[] Rows(TripletTuples t) =>
        L(t.Anchors).Zip(L(t.Positives), L(t.Negatives)).Select(r => (r.First, r.Second, r.Third)).ToArray();

    [Fact]
    public void BatchHard_PicksFarthestPositiveAndClosestNegative_PerAnchor()
    {
        using var scope = NewDisposeScope();
        // x = 0, 1, 2.5, 4, 10 (labels 0 0 1 1 0) and 20 (label 2, no positive: never an anchor, and too far to be a hardest negative).
        TripletTuples t = new BatchHardMiner(Plain).Mine(Points(0, 1, 2.5, 4, 10, 20), Labels(0, 0, 1, 1, 0, 2));
        Rows(t).Should().Equal((0, 4, 2), (1, 4, 2), (2, 3, 1), (3, 2, 1), (4, 0, 3));
    }

    [Fact]
    public void BatchHard_WithSimilarity_PicksLeastSimilarPositiveAndMostSimilarNegative()
    {
        using var scope = NewDisposeScope();
        double[] degrees = [0, 60, 25, 120];
        double[] xy = degrees.SelectMany(d => new[] { Math.Cos(d * Math.PI / 180), Math.Sin(d * Math.PI / 180) }).ToArray();
        TripletTuples t = new BatchHardMiner(new CosineSimilarity()).Mine(tensor(xy, [4, 2], ScalarType.Float64), Labels(0, 0, 1, 1));
        Rows(t).Should().Equal((0, 1, 2), (1, 0, 2), (2, 3, 0), (3, 2, 1));
    }

    [Fact]
    public void BatchHard_WithReferenceSet_DrawsPositivesAndNegativesFromIt()
    {
        using var scope = NewDisposeScope();
        // Anchors x = 0 (label 0) and 10 (label 1); reference x = 1, 2, 9, 12 with labels 0, 1, 1, 0.
        TripletTuples t = new BatchHardMiner(Plain).Mine(Points(0, 10), Labels(0, 1), Points(1, 2, 9, 12), Labels(0, 1, 1, 0));
        Rows(t).Should().Equal((0, 3, 1), (1, 1, 3));
    }

    [Theory]
    [InlineData(TripletMiningType.All, "(1,0,2) (2,3,0) (2,3,1)")]
    [InlineData(TripletMiningType.Hard, "(2,3,1)")]
    [InlineData(TripletMiningType.SemiHard, "(1,0,2) (2,3,0)")]
    [InlineData(TripletMiningType.Easy, "(0,1,2) (0,1,3) (1,0,3) (3,2,0) (3,2,1)")]
    public void BatchAll_KeepsTheTripletsInTheChosenMarginBand(TripletMiningType type, string expected)
    {
        using var scope = NewDisposeScope();
        // x = 0, 1, 2.5, 4 with labels 0 0 1 1; margin 1. Triplet margins d(a,n) − d(a,p):
        // (0,1,2) 1.5  (0,1,3) 3  (1,0,2) 0.5  (1,0,3) 2  (2,3,0) 1  (2,3,1) 0  (3,2,0) 2.5  (3,2,1) 1.5.
        TripletTuples t = new BatchAllMiner(margin: 1, type, Plain).Mine(Points(0, 1, 2.5, 4), Labels(0, 0, 1, 1));
        string.Join(" ", Rows(t).Select(r => $"({r.Item1},{r.Item2},{r.Item3})")).Should().Be(expected);
    }

    [Fact]
    public void SemiHard_PicksTheClosestNegativeFartherThanThePositive_InsideTheMargin()
    {
        using var scope = NewDisposeScope();
        // Same points, margin 2.6. Candidates with 0 < d(a,n) − d(a,p) < 2.6: (0,1): n2 (1.5); (1,0): n2 (0.5), n3 (2) → n2;
        // (2,3): n0 (1), n1 is 0 (not semi-hard); (3,2): n0 (2.5), n1 (1.5) → n1.
        TripletTuples t = new SemiHardMiner(margin: 2.6, Plain).Mine(Points(0, 1, 2.5, 4), Labels(0, 0, 1, 1));
        Rows(t).Should().Equal((0, 1, 2), (1, 0, 2), (2, 3, 0), (3, 2, 1));
        // With margin 1 only (1,0,2) is strictly inside the band: (2,3,0) sits exactly on it.
        Rows(new SemiHardMiner(margin: 1, Plain).Mine(Points(0, 1, 2.5, 4), Labels(0, 0, 1, 1))).Should().Equal((1, 0, 2));
    }

    [Fact]
    public void MultiSimilarity_KeepsPairsWithinEpsilonOfTheHardestOtherPair()
    {
        using var scope = NewDisposeScope();
        // x = 0, 1, 2.5, 4 (labels 0 0 1 1), ε = 0.6, distances. Anchor 1: d(1,0) + 0.6 = 1.6 > closest negative 1.5 → keep (1,0);
        // d(1,2) − 0.6 = 0.9 < farthest positive 1 → keep (1,2). Anchor 2: 1.5 + 0.6 > 1.5 → (2,3); 1.5 − 0.6 < 1.5 → (2,1).
        // Anchors 0 and 3 keep nothing (1.6 ≤ 2.5 and 2.1 ≤ 3; their negatives minus ε stay beyond their positive).
        PairTuples pairs = new MultiSimilarityMiner(epsilon: 0.6, Plain).Mine(Points(0, 1, 2.5, 4), Labels(0, 0, 1, 1));
        L(pairs.PositiveAnchors).Should().Equal(1, 2);
        L(pairs.Positives).Should().Equal(0, 3);
        L(pairs.NegativeAnchors).Should().Equal(1, 2);
        L(pairs.Negatives).Should().Equal(2, 1);
    }

    [Fact]
    public void PairMargin_KeepsFarPositivesAndCloseNegatives()
    {
        using var scope = NewDisposeScope();
        // Positives: d(0,1) = 1 ≤ 1.2 dropped, d(2,3) = 1.5 kept. Negatives below 2: only d(1,2) = 1.5.
        PairTuples pairs = new PairMarginMiner(positiveMargin: 1.2, negativeMargin: 2, Plain).Mine(Points(0, 1, 2.5, 4), Labels(0, 0, 1, 1));
        L(pairs.PositiveAnchors).Should().Equal(2, 3);
        L(pairs.Positives).Should().Equal(3, 2);
        L(pairs.NegativeAnchors).Should().Equal(1, 2);
        L(pairs.Negatives).Should().Equal(2, 1);
    }

    [Fact]
    public void Miners_ReturnNothing_WhenTheBatchHasNoPositivePair()
    {
        using var scope = NewDisposeScope();
        Tensor x = Points(0, 1, 2), labels = Labels(0, 1, 2);
        new BatchHardMiner().Mine(x, labels).Count.Should().Be(0);
        new BatchAllMiner().Mine(x, labels).Count.Should().Be(0);
        new SemiHardMiner().Mine(x, labels).Count.Should().Be(0);
        new MultiSimilarityMiner().Mine(x, labels).NegativeCount.Should().Be(0);
        new PairMarginMiner().Mine(x, labels).PositiveCount.Should().Be(0);
    }

    [Fact]
    public void Miners_DoNotBuildAGraph_AndRejectBadInput()
    {
        using var scope = NewDisposeScope();
        Tensor x = Points(0, 1, 2.5, 4).requires_grad_(true);
        TripletTuples t = new BatchHardMiner(Plain).Mine(x, Labels(0, 0, 1, 1));
        t.Anchors.requires_grad.Should().BeFalse();
        var wrongCount = () => new BatchAllMiner().Mine(Points(0, 1), Labels(0, 0, 1));
        wrongCount.Should().Throw<ArgumentException>().WithMessage("*2 embeddings but 3 labels*");
        var nan = () => new PairMarginMiner().Mine(Points(0, double.NaN), Labels(0, 1));
        nan.Should().Throw<ArgumentException>().WithMessage("*NaN*");
        var missingLabels = () => new MultiSimilarityMiner().Mine(Points(0, 1), Labels(0, 1), Points(2), null);
        missingLabels.Should().Throw<ArgumentException>().WithMessage("*together*");
        var width = () => new SemiHardMiner().Mine(Points(0, 1), Labels(0, 1), zeros(2, 3, dtype: ScalarType.Float64), Labels(0, 1));
        width.Should().Throw<ArgumentException>().WithMessage("*components*");
        var margin = () => new SemiHardMiner(margin: 0);
        margin.Should().Throw<ArgumentOutOfRangeException>();
    }

    /*
     PML 2.8.1 reference (PYTHONPATH=/work/pml/src /usr/bin/python3; scipy and tqdm are imported but unused by these miners):
import torch
from pytorch_metric_learning import miners, distances
torch.set_default_dtype(torch.float64)
g = torch.Generator().manual_seed(7)
E = torch.round(torch.randn(10, 3, generator=g) * 100) / 100
L = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 3, 3])
R = torch.round(torch.randn(6, 3, generator=g) * 100) / 100
RL = torch.tensor([0, 1, 1, 2, 3, 4])
print("E =", E.flatten().tolist()); print("R =", R.flatten().tolist())
def fmt(t): return "[" + ", ".join(str(int(v)) for v in t) + "]"
def sort_tuples(out):
    if len(out) == 3:
        rows = sorted(zip(*[x.tolist() for x in out]))
        return "triplets " + fmt([r[0] for r in rows]) + fmt([r[1] for r in rows]) + fmt([r[2] for r in rows])
    p = sorted(zip(out[0].tolist(), out[1].tolist())); n = sorted(zip(out[2].tolist(), out[3].tolist()))
    return "pairs " + fmt([r[0] for r in p]) + fmt([r[1] for r in p]) + fmt([r[0] for r in n]) + fmt([r[1] for r in n])
cases = {
 "BatchHard_Lp": miners.BatchHardMiner(),
 "BatchHard_Cos": miners.BatchHardMiner(distance=distances.CosineSimilarity()),
 "All_Lp": miners.TripletMarginMiner(margin=0.2, type_of_triplets="all"),
 "Hard_Lp": miners.TripletMarginMiner(margin=0.2, type_of_triplets="hard"),
 "Semi_Lp": miners.TripletMarginMiner(margin=0.2, type_of_triplets="semihard"),
 "Easy_Lp": miners.TripletMarginMiner(margin=0.2, type_of_triplets="easy"),
 "All_Cos": miners.TripletMarginMiner(margin=0.1, type_of_triplets="all", distance=distances.CosineSimilarity()),
 "MS_Cos": miners.MultiSimilarityMiner(epsilon=0.1),
 "MS_Lp": miners.MultiSimilarityMiner(epsilon=0.1, distance=distances.LpDistance()),
 "PM_Lp": miners.PairMarginMiner(pos_margin=0.2, neg_margin=0.8),
 "PM_Cos": miners.PairMarginMiner(pos_margin=0.9, neg_margin=0.3, distance=distances.CosineSimilarity()),
}
for k, m in cases.items():
    print(k, sort_tuples(m(E, L)))
    print(k + "_ref", sort_tuples(m(E, L, R, RL)))
    */
    private static readonly double[] PmlEmbeddings = [0.07, 0.05, 1.84, 1.37, 1.12, 1.86, 0.6, 0.74, -0.81, -0.8, 0.77, 0.52, 1.96, 0.45, -0.1, -0.25, -1.27, 1.28, -0.56, -0.34, 0.11, 0.16, -1.23, 0.35, 0.67, -0.94, 0.73, 0.04, 0.64, 0.32];
    private static readonly long[] PmlLabels = [0, 0, 0, 1, 1, 1, 2, 2, 3, 3];
    private static readonly double[] PmlReference = [-0.71, 0.83, -0.32, 0.25, -0.25, 1.09, -0.54, -0.81, -0.82, -0.06, 1.38, 1.2, 0.73, -0.21, 1.1, -0.34, 0.42, 1.2];
    private static readonly long[] PmlReferenceLabels = [0, 1, 1, 2, 3, 4];

    private static readonly Dictionary<string, string> PmlExpected = new()
    {
        ["BatchHard_Lp"] = "triplets [0, 1, 2, 3, 4, 5, 6, 7, 8, 9][2, 2, 0, 4, 3, 4, 7, 6, 9, 8][5, 9, 4, 9, 2, 7, 5, 8, 7, 1]",
        ["BatchHard_Lp_ref"] = "triplets [0, 1, 2, 3, 4, 5, 6, 7, 8, 9][0, 0, 0, 2, 2, 2, 3, 3, 4, 4][1, 4, 3, 3, 4, 4, 2, 1, 1, 3]",
        ["BatchHard_Cos"] = "triplets [0, 1, 2, 3, 4, 5, 6, 7, 8, 9][2, 2, 0, 4, 3, 4, 7, 6, 9, 8][5, 9, 4, 9, 2, 7, 5, 8, 7, 1]",
        ["BatchHard_Cos_ref"] = "triplets [0, 1, 2, 3, 4, 5, 6, 7, 8, 9][0, 0, 0, 2, 2, 2, 3, 3, 4, 4][1, 4, 3, 3, 4, 4, 2, 1, 1, 3]",
        ["All_Lp"] = "triplets [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 7, 7, 7, 8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9][1, 2, 2, 2, 2, 2, 2, 2, 0, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 3, 3, 3, 3, 3, 3, 5, 5, 5, 5, 5, 5, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 7, 7, 6, 6, 6, 9, 9, 9, 9, 9, 9, 9, 9, 8, 8, 8, 8, 8, 8, 8][5, 3, 4, 5, 6, 7, 8, 9, 9, 3, 4, 5, 7, 8, 9, 3, 4, 5, 6, 7, 8, 9, 3, 4, 9, 0, 1, 2, 6, 7, 8, 9, 0, 1, 2, 6, 9, 0, 1, 2, 7, 8, 9, 0, 1, 2, 7, 8, 9, 0, 1, 6, 7, 8, 9, 0, 1, 6, 7, 8, 9, 3, 5, 0, 5, 8, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6]",
        ["All_Lp_ref"] = "triplets [0, 0, 0, 0, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 5, 5, 5, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 8, 9, 9, 9, 9][0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4][1, 3, 4, 5, 1, 3, 4, 5, 0, 3, 4, 5, 0, 3, 4, 5, 3, 4, 0, 3, 4, 5, 3, 4, 5, 0, 1, 2, 4, 5, 0, 1, 2, 4, 5, 1, 0, 1, 3, 5]",
        ["Hard_Lp"] = "triplets [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 7, 7, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9][2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 4, 4, 4, 4, 4, 5, 5, 5, 5, 3, 3, 3, 3, 3, 3, 5, 5, 5, 5, 5, 5, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 7, 6, 6, 9, 9, 9, 9, 9, 9, 8, 8, 8, 8, 8, 8][3, 4, 5, 6, 7, 8, 9, 3, 4, 5, 8, 9, 3, 4, 8, 9, 4, 9, 0, 1, 2, 6, 9, 0, 1, 6, 9, 0, 1, 2, 7, 8, 9, 0, 1, 2, 7, 8, 9, 0, 1, 6, 7, 8, 0, 1, 6, 7, 8, 9, 5, 5, 8, 0, 1, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5]",
        ["Hard_Lp_ref"] = "triplets [0, 0, 0, 0, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 5, 5, 6, 6, 6, 6, 6, 7, 7, 7, 7, 9, 9, 9][0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4][1, 3, 4, 5, 1, 3, 4, 5, 0, 3, 5, 0, 3, 4, 5, 4, 0, 3, 4, 5, 4, 5, 0, 1, 2, 4, 5, 1, 2, 4, 5, 0, 3, 5]",
        ["Semi_Lp"] = "triplets [0, 1, 1, 2, 2, 2, 2, 3, 3, 3, 5, 6, 7, 8, 8, 9][1, 0, 2, 0, 0, 0, 1, 4, 4, 5, 3, 7, 6, 9, 9, 8][5, 9, 7, 5, 6, 7, 3, 7, 8, 2, 9, 3, 0, 2, 3, 6]",
        ["Semi_Lp_ref"] = "triplets [3, 4, 5, 7, 8, 9][1, 1, 2, 3, 4, 4][4, 3, 3, 0, 1, 1]",
        ["Easy_Lp"] = "triplets [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 9][1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 2, 1, 1, 1, 1, 5, 5, 3, 5, 3, 4, 7, 7, 7, 7, 7, 7, 6, 6, 6, 6, 6, 8][3, 4, 6, 7, 8, 9, 3, 4, 5, 6, 7, 8, 6, 5, 6, 7, 8, 7, 8, 6, 6, 2, 2, 0, 1, 2, 4, 8, 9, 1, 2, 3, 4, 9, 7]",
        ["Easy_Lp_ref"] = "triplets [0, 1, 2, 2, 2, 2, 2, 4, 4, 5, 5, 5, 5, 5, 8, 8, 8, 8, 9][0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 4, 4, 4, 4, 4][2, 2, 1, 2, 3, 4, 5, 0, 5, 0, 3, 4, 5, 0, 0, 2, 3, 5, 2]",
        ["All_Cos"] = "triplets [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 7, 7, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9][1, 2, 2, 2, 2, 2, 2, 2, 0, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 1, 1, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 3, 3, 3, 3, 3, 3, 5, 5, 5, 5, 5, 5, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 7, 6, 6, 9, 9, 9, 9, 9, 9, 8, 8, 8, 8, 8, 8, 8][5, 3, 4, 5, 6, 7, 8, 9, 9, 3, 4, 5, 8, 9, 3, 4, 7, 8, 9, 4, 9, 0, 1, 2, 6, 7, 8, 9, 0, 1, 6, 9, 0, 1, 2, 7, 8, 9, 0, 1, 2, 7, 8, 9, 0, 1, 6, 7, 8, 0, 1, 6, 7, 8, 9, 5, 5, 8, 0, 1, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6]",
        ["All_Cos_ref"] = "triplets [0, 0, 0, 0, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 5, 5, 6, 6, 6, 6, 6, 7, 7, 7, 7, 8, 9, 9, 9, 9][0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4][1, 3, 4, 5, 1, 3, 4, 5, 0, 3, 5, 0, 3, 4, 5, 3, 4, 0, 3, 4, 5, 4, 5, 0, 1, 2, 4, 5, 1, 2, 4, 5, 1, 0, 1, 3, 5]",
        ["MS_Cos"] = "pairs [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 7, 8, 9][1, 2, 0, 2, 0, 1, 4, 5, 3, 5, 3, 4, 7, 6, 9, 8][0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 6, 7, 7, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9][3, 4, 5, 6, 7, 8, 9, 3, 4, 5, 8, 9, 3, 4, 7, 8, 9, 0, 1, 2, 6, 7, 8, 9, 0, 1, 2, 7, 8, 9, 0, 1, 6, 7, 8, 9, 5, 5, 8, 0, 1, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6]",
        ["MS_Cos_ref"] = "pairs [0, 1, 3, 3, 4, 4, 5, 6, 7, 8, 9][0, 0, 1, 2, 1, 2, 2, 3, 3, 4, 4][0, 0, 0, 0, 1, 1, 1, 1, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 6, 6, 6, 6, 6, 7, 7, 7, 7, 8, 9, 9, 9, 9][1, 3, 4, 5, 1, 3, 4, 5, 0, 3, 4, 5, 0, 3, 4, 5, 4, 5, 0, 1, 2, 4, 5, 1, 2, 4, 5, 1, 0, 1, 3, 5]",
        ["MS_Lp"] = "pairs [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 7, 8, 9][2, 0, 2, 0, 1, 4, 5, 3, 5, 3, 4, 7, 6, 9, 8][0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 6, 7, 7, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9][3, 4, 5, 6, 7, 8, 9, 3, 4, 5, 8, 9, 3, 4, 7, 8, 9, 0, 1, 2, 6, 7, 8, 9, 0, 1, 2, 7, 8, 9, 0, 1, 6, 7, 8, 9, 5, 5, 8, 0, 1, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6]",
        ["MS_Lp_ref"] = "pairs [0, 1, 3, 3, 4, 4, 5, 6, 7, 8, 9][0, 0, 1, 2, 1, 2, 2, 3, 3, 4, 4][0, 0, 0, 0, 1, 1, 1, 1, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 6, 6, 6, 6, 6, 7, 7, 7, 7, 8, 9, 9, 9, 9][1, 3, 4, 5, 1, 3, 4, 5, 0, 3, 4, 5, 0, 3, 4, 5, 3, 4, 5, 0, 1, 2, 4, 5, 1, 2, 4, 5, 1, 0, 1, 3, 5]",
        ["PM_Lp"] = "pairs [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 7, 8, 9][1, 2, 0, 2, 0, 1, 4, 5, 3, 5, 3, 4, 7, 6, 9, 8][1, 3, 5, 5, 7, 7, 8, 8, 9, 9][9, 9, 7, 8, 5, 8, 5, 7, 1, 3]",
        ["PM_Lp_ref"] = "pairs [0, 1, 2, 3, 3, 4, 4, 5, 5, 6, 7, 8, 9][0, 0, 0, 1, 2, 1, 2, 1, 2, 3, 3, 4, 4][0, 0, 0, 1, 1, 1, 3, 3, 3, 8, 9][1, 4, 5, 1, 3, 4, 0, 3, 5, 1, 3]",
        ["PM_Cos"] = "pairs [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 7, 8, 9][1, 2, 0, 2, 0, 1, 4, 5, 3, 5, 3, 4, 7, 6, 9, 8][0, 0, 0, 0, 1, 1, 1, 2, 3, 3, 4, 4, 5, 5, 5, 5, 6, 7, 7, 8, 8, 8, 8, 9, 9, 9][3, 5, 8, 9, 4, 8, 9, 4, 0, 9, 1, 2, 0, 6, 7, 8, 5, 5, 8, 0, 1, 5, 7, 0, 1, 3]",
        ["PM_Cos_ref"] = "pairs [0, 1, 2, 3, 3, 4, 4, 5, 5, 6, 7, 8, 9][0, 0, 0, 1, 2, 1, 2, 1, 2, 3, 3, 4, 4][0, 0, 0, 0, 1, 1, 1, 1, 3, 3, 3, 4, 5, 5, 6, 7, 7, 7, 8, 9, 9, 9][1, 3, 4, 5, 1, 3, 4, 5, 0, 3, 5, 4, 4, 5, 2, 1, 2, 4, 1, 0, 3, 5]",
    };

    private static readonly Dictionary<string, IMiner> PmlCases = new()
    {
        ["BatchHard_Lp"] = new BatchHardMiner(),
        ["BatchHard_Cos"] = new BatchHardMiner(new CosineSimilarity()),
        ["All_Lp"] = new BatchAllMiner(0.2, TripletMiningType.All),
        ["Hard_Lp"] = new BatchAllMiner(0.2, TripletMiningType.Hard),
        ["Semi_Lp"] = new BatchAllMiner(0.2, TripletMiningType.SemiHard),
        ["Easy_Lp"] = new BatchAllMiner(0.2, TripletMiningType.Easy),
        ["All_Cos"] = new BatchAllMiner(0.1, TripletMiningType.All, new CosineSimilarity()),
        ["MS_Cos"] = new MultiSimilarityMiner(0.1),
        ["MS_Lp"] = new MultiSimilarityMiner(0.1, new LpDistance()),
        ["PM_Lp"] = new PairMarginMiner(0.2, 0.8),
        ["PM_Cos"] = new PairMarginMiner(0.9, 0.3, new CosineSimilarity()),
    };

    public static TheoryData<string> PmlCaseNames() => new(PmlCases.Keys);

    private static string Format(Tensor t) => "[" + string.Join(", ", L(t)) + "]";

    private static string Sorted(IndexTuples tuples)
    {
        switch (tuples)
        {
            case TripletTuples t:
                var rows = Rows(t).OrderBy(r => r).ToArray();
                return "triplets " + Format(tensor(rows.Select(r => r.Item1).ToArray())) + Format(tensor(rows.Select(r => r.Item2).ToArray())) + Format(tensor(rows.Select(r => r.Item3).ToArray()));
            case PairTuples p:
                var pos = L(p.PositiveAnchors).Zip(L(p.Positives)).OrderBy(r => r).ToArray();
                var neg = L(p.NegativeAnchors).Zip(L(p.Negatives)).OrderBy(r => r).ToArray();
                return "pairs " + Format(tensor(pos.Select(r => r.First).ToArray())) + Format(tensor(pos.Select(r => r.Second).ToArray()))
                    + Format(tensor(neg.Select(r => r.First).ToArray())) + Format(tensor(neg.Select(r => r.Second).ToArray()));
            default: throw new InvalidOperationException();
        }
    }

    [Theory]
    [MemberData(nameof(PmlCaseNames))]
    public void Miner_AgreesWithPml_OnAFixedBatch_WithAndWithoutReferenceSet(string name)
    {
        using var scope = NewDisposeScope();
        IMiner miner = PmlCases[name];
        Tensor embeddings = tensor(PmlEmbeddings, [10, 3], ScalarType.Float64);
        Tensor reference = tensor(PmlReference, [6, 3], ScalarType.Float64);
        Sorted(miner.Mine(embeddings, tensor(PmlLabels))).Should().Be(PmlExpected[name]);
        Sorted(miner.Mine(embeddings, tensor(PmlLabels), reference, tensor(PmlReferenceLabels))).Should().Be(PmlExpected[name + "_ref"]);
    }

    [Fact]
    public void SemiHard_KeepsTheClosestOfBatchAllsSemiHardNegatives_ForEachPositivePair()
    {
        using var scope = NewDisposeScope();
        Tensor embeddings = tensor(PmlEmbeddings, [10, 3], ScalarType.Float64);
        Tensor reference = tensor(PmlReference, [6, 3], ScalarType.Float64);
        var distance = new LpDistance();
        foreach (Tensor? refEmb in new[] { null, reference })
        {
            Tensor? refLabels = refEmb is null ? null : tensor(PmlReferenceLabels);
            double[] d = distance.Pairwise(embeddings, refEmb).data<double>().ToArray();
            int m = refEmb is null ? 10 : 6;
            // Every semi-hard triplet in (0, margin]; the miner uses the open band, which no random distance sits on.
            var candidates = Rows(new BatchAllMiner(0.3, TripletMiningType.SemiHard).Mine(embeddings, tensor(PmlLabels), refEmb, refLabels));
            var expected = candidates.GroupBy(r => (r.Item1, r.Item2))
                .Select(g => g.MinBy(r => d[r.Item1 * m + r.Item3]))
                .OrderBy(r => r).ToArray();
            expected.Should().NotBeEmpty();
            Rows(new SemiHardMiner(0.3).Mine(embeddings, tensor(PmlLabels), refEmb, refLabels)).OrderBy(r => r).Should().Equal(expected);
        }
    }

    [Fact]
    public void Miners_AcceptFloat32EmbeddingsAndInt32Labels()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new float[] { 0, 1, 2.5f, 4 }, [4, 1]);
        Tensor labels = tensor(new[] { 0, 0, 1, 1 });
        Rows(new BatchHardMiner(Plain).Mine(x, labels)).Should().Equal((0, 1, 2), (1, 0, 2), (2, 3, 1), (3, 2, 1));
        L(new PairMarginMiner(1.2, 2, Plain).Mine(x, labels).Negatives).Should().Equal(2, 1);
    }
}
