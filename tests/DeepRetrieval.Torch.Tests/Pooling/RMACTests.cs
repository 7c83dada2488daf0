using DeepRetrieval.Torch.Pooling;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Pooling;

public class RMACTests
{
    // Expected regions are cirtorch's, printed (top, left, size) by the rmac region loop run under PyTorch 1.13:
    //   def regions(H, W, L=3):
    //       ovr = 0.4; steps = torch.Tensor([2, 3, 4, 5, 6, 7]); w = min(W, H); b = (max(H, W)-w)/(steps-1)
    //       (tmp, idx) = torch.min(torch.abs(((w**2 - w*b)/w**2)-ovr), 0); Wd = Hd = 0
    //       if H < W: Wd = idx.item() + 1
    //       elif H > W: Hd = idx.item() + 1
    //       for l in range(1, L+1):
    //           wl = math.floor(2*w/(l+1)); wl2 = math.floor(wl/2 - 1)
    //           b = 0 if l+Wd == 1 else (W-wl)/(l+Wd-1); cenW = torch.floor(wl2 + torch.Tensor(range(l-1+Wd+1))*b) - wl2
    //           b = 0 if l+Hd == 1 else (H-wl)/(l+Hd-1); cenH = torch.floor(wl2 + torch.Tensor(range(l-1+Hd+1))*b) - wl2
    //           for i_ in cenH.tolist():
    //               for j_ in cenW.tolist(): print(int(i_), int(j_), wl)
    // 5 × 9 is a float32 tie in the overlap choice and 2 × 32 a float32 rounding of the centres; both follow cirtorch.
    // (Offline, the C# rules matched cirtorch for every H, W in 1..79 and L in {1, 3, 5}.)
    [Theory]
    [InlineData(3, 3, "0,0,3 0,0,2 0,1,2 1,0,2 1,1,2 0,0,1 0,1,1 0,2,1 1,0,1 1,1,1 1,2,1 2,0,1 2,1,1 2,2,1")]
    [InlineData(5, 9, "0,0,5 0,4,5 0,0,3 0,3,3 0,6,3 2,0,3 2,3,3 2,6,3 0,0,2 0,2,2 0,4,2 0,7,2 1,0,2 1,2,2 1,4,2 1,7,2 3,0,2 3,2,2 3,4,2 3,7,2")]
    [InlineData(2, 32, "0,0,2 0,5,2 0,10,2 0,15,2 0,20,2 0,25,2 0,30,2 0,0,1 0,4,1 0,8,1 0,13,1 0,17,1 0,22,1 0,26,1 0,30,1 1,0,1 1,4,1 1,8,1 1,13,1 1,17,1 1,22,1 1,26,1 1,30,1 0,0,1 0,3,1 0,7,1 0,11,1 0,15,1 0,19,1 0,23,1 0,27,1 0,31,1 0,0,1 0,3,1 0,7,1 0,11,1 0,15,1 0,19,1 0,23,1 0,27,1 0,31,1 1,0,1 1,3,1 1,7,1 1,11,1 1,15,1 1,19,1 1,23,1 1,27,1 1,31,1")]
    [InlineData(11, 47, "0,0,11 0,6,11 0,12,11 0,18,11 0,24,11 0,30,11 0,36,11 0,0,7 0,5,7 0,11,7 0,17,7 0,22,7 0,28,7 0,34,7 0,40,7 4,0,7 4,5,7 4,11,7 4,17,7 4,22,7 4,28,7 4,34,7 4,40,7 0,0,5 0,5,5 0,10,5 0,15,5 0,21,5 0,26,5 0,31,5 0,36,5 0,42,5 3,0,5 3,5,5 3,10,5 3,15,5 3,21,5 3,26,5 3,31,5 3,36,5 3,42,5 6,0,5 6,5,5 6,10,5 6,15,5 6,21,5 6,26,5 6,31,5 6,36,5 6,42,5")]
    [InlineData(7, 10, "0,0,7 0,3,7 0,0,4 0,3,4 0,6,4 3,0,4 3,3,4 3,6,4 0,0,3 0,2,3 0,4,3 0,7,3 2,0,3 2,2,3 2,4,3 2,7,3 4,0,3 4,2,3 4,4,3 4,7,3")]
    public void Regions_MatchCirtorch(int height, int width, string expected)
    {
        RmacRegion[] regions = expected.Split(' ').Select(r => r.Split(',').Select(int.Parse).ToArray())
            .Select(v => new RmacRegion(v[0], v[1], v[2])).ToArray();
        RMAC.Regions(height, width, 3).Should().Equal(regions);
    }

    [Fact]
    public void Forward_MatchesCirtorchRmacFollowedByL2Normalisation()
    {
        using var scope = NewDisposeScope();
        // PyTorch: regions as above; v = MAC(x)/‖·‖ + Σ_R MAC(x_R)/(‖·‖ + 1e−6) (cirtorch rmac), then F.normalize:
        //   x = torch.tensor([[[[0.1,0.9,0.3,0.4],[0.5,0.2,0.8,0.0],[0.7,0.6,0.1,0.2]],
        //                      [[0.3,0.2,0.1,0.9],[0.4,0.8,0.5,0.6],[0.2,0.0,0.7,0.3]]]], dtype=torch.float64)
        //   → [0.7000064188286708, 0.714136551087157]
        Tensor maps = tensor(new double[] { 0.1, 0.9, 0.3, 0.4, 0.5, 0.2, 0.8, 0.0, 0.7, 0.6, 0.1, 0.2,
                                            0.3, 0.2, 0.1, 0.9, 0.4, 0.8, 0.5, 0.6, 0.2, 0.0, 0.7, 0.3 }, [1, 2, 3, 4]);
        double[] pooled = new RMAC().call(maps).data<double>().ToArray();
        pooled[0].Should().BeApproximately(0.7000064188286708, 1e-12);
        pooled[1].Should().BeApproximately(0.714136551087157, 1e-12);
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(5, 9)]
    [InlineData(7, 7)]
    [InlineData(9, 4)]
    public void Forward_EqualsTheNormalisedSumOverTheListedRegions_IncludingRepeatedOnes(int height, int width)
    {
        using var scope = NewDisposeScope();
        // 2 × 2 lists some regions twice (cirtorch's starts repeat for tiny maps); they count twice in the sum.
        Tensor maps = rand([2, 3, height, width], ScalarType.Float64, generator: new Generator((ulong)(height * 100 + width)));
        Tensor sum = zeros([2, 3], ScalarType.Float64);
        Tensor whole = maps.amax([2, 3]);
        sum += whole / (whole.norm(1, true, 2) + 1e-6);
        foreach (RmacRegion r in RMAC.Regions(height, width, 3))
        {
            Tensor v = maps.narrow(2, r.Top, r.Size).narrow(3, r.Left, r.Size).amax([2, 3]);
            sum += v / (v.norm(1, true, 2) + 1e-6);
        }
        Tensor expected = sum / sum.norm(1, true, 2);
        new RMAC().call(maps).allclose(expected, rtol: 1e-12, atol: 1e-12).Should().BeTrue();
    }

    [Fact]
    public void Forward_OnASingleRegion_IsTheNormalisedMac()
    {
        using var scope = NewDisposeScope();
        // A 1 × 1 map has one region per scale only at l = 1 (size ⌊2/2⌋ = 1; larger l give size 0): the result is MAC normalised.
        Tensor maps = tensor(new double[] { 3, -4, 3, 4 }, [2, 2, 1, 1]);
        double[] pooled = new RMAC(includeWholeMap: false).call(maps).data<double>().ToArray();
        pooled.Should().Equal([0.6, -0.8, 0.6, 0.8], (a, b) => Math.Abs(a - b) < 1e-12);
    }

    [Fact]
    public void Forward_ReturnsUnitRows_AndRejectsBadLevels()
    {
        using var scope = NewDisposeScope();
        Tensor pooled = new RMAC(levels: 2).call(rand(3, 8, 7, 9));
        pooled.shape.Should().Equal(3, 8);
        pooled.norm(dim: 1).allclose(ones(3), atol: 1e-5).Should().BeTrue();
        // ReLU maps are often all zero in a region: the gradient must stay finite there.
        Tensor dead = zeros([1, 2, 3, 3], ScalarType.Float64).requires_grad_(true);
        new RMAC().call(dead).sum().backward();
        dead.grad!.isfinite().all().item<bool>().Should().BeTrue();
        var act = () => new RMAC(levels: 0);
        act.Should().Throw<ArgumentOutOfRangeException>();
    }
}
