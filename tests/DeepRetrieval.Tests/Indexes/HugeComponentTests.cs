using DeepRetrieval.Indexes;
using DeepRetrieval.Quantization;
using DeepRetrieval.Transforms;
using static DeepRetrieval.Tests.Indexes.IndexContract;

namespace DeepRetrieval.Tests.Indexes;

/// <summary>
/// Issue 16, finding 4: finite components whose squares overflow float. The policy (docs/reliability.md) is to reject a
/// component above √(float.MaxValue / (4·d)) at Add, Search, RangeSearch and Train with an <see cref="ArgumentException"/>
/// naming its row and component, through one check (<c>VectorValidation</c>). Before, main accepted such rows: an exact
/// match then disappeared and valid ids came back with NaN distances, SQ8 trained ranges that crushed every other vector
/// into one code, and PCA/OPQ training threw IndexOutOfRangeException / NonConvergenceException.
/// </summary>
public class HugeComponentTests
{
    // √(float.MaxValue / (4·32)) ≈ 1.63e18 for the contract's 32 dimensions.
    private static readonly float Bound = (float)Math.Sqrt(float.MaxValue / (4.0 * D));

    private static float[] RowWith(float value, int component, int rows = 1, int row = 0)
    {
        float[] data = Vectors[..(rows * D)];
        data[row * D + component] = value;
        return data;
    }

    [Theory]
    [MemberData(nameof(IndexContract.AllCases), MemberType = typeof(IndexContract))]
    public void AddSearchAndRangeSearch_RejectAComponentAboveTheBound_NamingRowAndComponent_AndLeaveTheIndexUnchanged(string name)
    {
        Case c = Find(name);
        IVectorIndex index = Build(c, rows: 200);
        long[] before = index.GetIds();
        float[] huge = RowWith(1e19f, component: 5, rows: 3, row: 2); // main: added, then NaN distances

        FluentActions.Invoking(() => index.Add(huge)).Should().Throw<ArgumentException>().WithMessage("*Row 2, component 5*at most*");
        FluentActions.Invoking(() => index.Add(huge, [900L, 901L, 902L])).Should().Throw<ArgumentException>().WithMessage("*Row 2, component 5*");
        FluentActions.Invoking(() => index.Search(huge, 3)).Should().Throw<ArgumentException>().WithMessage("*Row 2, component 5*");
        FluentActions.Invoking(() => index.RangeSearch(huge, 1f)).Should().Throw<ArgumentException>().WithMessage("*Row 2, component 5*");
        FluentActions.Invoking(() => index.Add(RowWith(-3e38f, 0))).Should().Throw<ArgumentException>().WithMessage("*Row 0, component 0*");
        index.GetIds().Should().Equal(before);
    }

    [Theory]
    [MemberData(nameof(IndexContract.AllCases), MemberType = typeof(IndexContract))]
    public void ComponentsJustInsideTheBound_AreFoundExactlyByExactKinds_AndNeverGiveNaNDistances(string name)
    {
        Case c = Find(name);
        IVectorIndex index = Build(c, rows: 200);
        // A whole row at 90 % of the bound, alternating in sign: its norm², and its squared distance to anything within
        // the bound, stay below float.MaxValue.
        var large = new float[D];
        for (int j = 0; j < D; j++) large[j] = (j % 2 == 0 ? 0.9f : -0.9f) * Bound;
        try
        {
            index.Add(large, [5000L]);
        }
        catch (ArgumentException e)
        {
            // A transform may map an in-range row out of range for its inner index: that must be said, not computed.
            e.Message.Should().Match("*Row 0, component *at most*");
            index.Contains(5000L).Should().BeFalse();
            return;
        }
        SearchResult found = index.Search(large, 5);
        long[] stored = index.GetIds();
        for (int i = 0; i < 5; i++)
        {
            if (found.Ids[i] == SearchResult.MissingId) continue;
            stored.Should().Contain(found.Ids[i]);
            float.IsNaN(found.Distances[i]).Should().BeFalse($"{name}: neighbour {i} ({found.Ids[i]}) has a NaN distance");
        }
        if (c.Exact) found.Ids[0].Should().Be(5000L, $"{name} is exact, so the row itself comes first");
        SearchResult normal = index.Search(Queries.AsSpan(0, D), 5);
        normal.Distances.Should().OnlyContain(d => !float.IsNaN(d));
    }

    [Fact]
    public void ScalarQuantizerTraining_RejectsA1e30Row_NamingIt()
    {
        var sq = new ScalarQuantizer(D, ScalarQuantizerType.SQ8);
        // main: trained a range of 1e30 in component 3, so every ordinary vector got the same code there.
        FluentActions.Invoking(() => sq.Train(RowWith(1e30f, component: 3, rows: 100, row: 7))).Should().Throw<ArgumentException>()
            .WithMessage("*Row 7, component 3*1E+30*at most*");
        sq.IsTrained.Should().BeFalse();
        FluentActions.Invoking(() => IndexFactory.Create(D, "SQ8").Train(RowWith(1e30f, 3, 100, 7))).Should().Throw<ArgumentException>().WithMessage("*Row 7, component 3*");
    }

    [Fact]
    public void PcaTraining_RejectsA1e30Row_NamingIt()
    {
        var pca = new PcaTransform(D, 8);
        // main: the covariance overflowed and the eigen-decomposition threw IndexOutOfRangeException.
        FluentActions.Invoking(() => pca.Train(RowWith(1e30f, component: 0, rows: 100, row: 42))).Should().Throw<ArgumentException>()
            .WithMessage("*Row 42, component 0*");
        pca.IsTrained.Should().BeFalse();
        FluentActions.Invoking(() => IndexFactory.Create(D, "PCA8,Flat").Train(RowWith(1e30f, 0, 100, 42))).Should().Throw<ArgumentException>().WithMessage("*Row 42, component 0*");
    }

    [Fact]
    public void OpqTraining_RejectsA1e30Row_NamingIt()
    {
        var opq = new OpqTransform(D, 8);
        // main: NonConvergenceException from the SVD of a matrix holding ∞.
        FluentActions.Invoking(() => opq.Train(RowWith(1e30f, component: 31, rows: 300, row: 299))).Should().Throw<ArgumentException>()
            .WithMessage("*Row 299, component 31*");
        opq.IsTrained.Should().BeFalse();
        FluentActions.Invoking(() => IndexFactory.Create(D, "OPQ8,PQ8").Train(RowWith(1e30f, 31, 300, 299))).Should().Throw<ArgumentException>().WithMessage("*Row 299, component 31*");
    }

    [Fact]
    public void ProductQuantizerAndKMeans_RejectA1e30Row_NamingIt()
    {
        FluentActions.Invoking(() => new ProductQuantizer(D, 8, 4).Train(RowWith(1e30f, 1, 300, 3))).Should().Throw<ArgumentException>().WithMessage("*Row 3, component 1*");
        FluentActions.Invoking(() => new DeepRetrieval.Clustering.KMeans(4).Train(RowWith(1e30f, 1, 300, 3), D)).Should().Throw<ArgumentException>().WithMessage("*Row 3, component 1*");
    }

    [Fact]
    public void TheBound_IsTheLargestMagnitudeWhoseSquaredDistancesStayFinite()
    {
        VectorValidation.MaxMagnitude(D).Should().Be(Bound);
        // Two opposite rows at 99 % of the bound: ‖x − y‖² = 0.98 · 4·d·B² = 0.98 · float.MaxValue, still finite.
        var x = Enumerable.Repeat(0.99f * Bound, D).ToArray();
        var y = Enumerable.Repeat(-0.99f * Bound, D).ToArray();
        var flat = new FlatIndex(D, Metric.L2);
        flat.Add(x, [1L]);
        SearchResult found = flat.Search(y, 1);
        found.Ids[0].Should().Be(1L);
        float.IsFinite(found.Distances[0]).Should().BeTrue($"the distance {found.Distances[0]} must be finite");
        VectorValidation.MaxMagnitude(1).Should().BeApproximately(9.22e18f, 0.01e18f);
    }
}
