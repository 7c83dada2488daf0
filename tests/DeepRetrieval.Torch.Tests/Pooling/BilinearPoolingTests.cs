using DeepRetrieval.Torch.Pooling;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Pooling;

public class BilinearPoolingTests
{
    [Fact]
    public void SelfPooling_MatchesHandValue()
    {
        using var scope = NewDisposeScope();
        // Two locations: (1, 0) and (0, 2). Mean outer product [[0.5, 0], [0, 2]]; signed root [√0.5, 0, 0, √2];
        // norm √2.5, so [√0.2, 0, 0, √0.8].
        Tensor maps = tensor(new double[] { 1, 0, 0, 2 }, [1, 2, 1, 2]);
        double[] pooled = new BilinearPooling(epsilon: 0).call(maps).data<double>().ToArray();
        pooled.Should().Equal([Math.Sqrt(0.2), 0, 0, Math.Sqrt(0.8)], (a, b) => Math.Abs(a - b) < 1e-9);
    }

    [Fact]
    public void TwoStreamPooling_MatchesHandValue_WithNegativeEntries()
    {
        using var scope = NewDisposeScope();
        // a = (1, −2) over two locations; b0 = (3, 1), b1 = (0, 1). Means: (3 − 2)/2 = 0.5 and (0 − 2)/2 = −1;
        // signed roots √0.5 and −1; norm √1.5.
        Tensor first = tensor(new double[] { 1, -2 }, [1, 1, 1, 2]);
        Tensor second = tensor(new double[] { 3, 1, 0, 1 }, [1, 2, 1, 2]);
        double[] pooled = new BilinearPooling(epsilon: 0).forward(first, second).data<double>().ToArray();
        pooled.Should().Equal([Math.Sqrt(0.5 / 1.5), -1 / Math.Sqrt(1.5)], (a, b) => Math.Abs(a - b) < 1e-9);
    }

    [Fact]
    public void Gradient_MatchesFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        Tensor weights = randn([2, 9], ScalarType.Float64, generator: new Generator(11));
        var layer = new BilinearPooling();
        Tensor maps = randn([2, 3, 2, 2], ScalarType.Float64, generator: new Generator(12));
        GradientCheck.AssertMatches(x => (layer.call(x) * weights).sum(), maps);
        Tensor second = randn([2, 2, 2, 2], ScalarType.Float64, generator: new Generator(13));
        Tensor pairWeights = randn([2, 6], ScalarType.Float64, generator: new Generator(14));
        GradientCheck.AssertMatches(x => (layer.forward(x, second) * pairWeights).sum(), maps);
    }

    [Fact]
    public void TwoStreamPooling_RejectsDifferentSpatialSizes()
    {
        using var scope = NewDisposeScope();
        var act = () => new BilinearPooling().forward(zeros(1, 2, 3, 3), zeros(1, 2, 3, 4));
        act.Should().Throw<ArgumentException>().WithMessage("*same batch size and spatial size*");
    }

    [Fact]
    public void CompactSketch_IsTheCircularConvolutionOfTheCountSketches()
    {
        using var scope = NewDisposeScope();
        var layer = new CompactBilinearPooling(3, 4, outputDimension: 5, seed: 42);
        double[] a = [0.5, -1, 2], b = [1, 0.25, -3, 2];
        // TS(a, b)_d = Σ over i, j with (h1(i) + h2(j)) mod D = d of s1(i)·s2(j)·a_i·b_j.
        var expected = new double[5];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
                expected[(layer.FirstHashes[i] + layer.SecondHashes[j]) % 5] += layer.FirstSigns[i] * layer.SecondSigns[j] * a[i] * b[j];
        double[] sketch = layer.Sketch(tensor(a, [1, 3]), tensor(b, [1, 4])).data<double>().ToArray();
        sketch.Should().Equal(expected, (x, y) => Math.Abs(x - y) < 1e-12);
    }

    [Fact]
    public void CompactSketch_InnerProductApproximatesSquaredInnerProduct()
    {
        using var scope = NewDisposeScope();
        // E⟨TS(x, x), TS(y, y)⟩ = ⟨x, y⟩²; the standard deviation is about √(2/D) for unit vectors (0.016 at D = 8192).
        var layer = new CompactBilinearPooling(32, 32, outputDimension: 8192, seed: 1);
        Tensor x = nn.functional.normalize(randn([6, 32], ScalarType.Float64, generator: new Generator(21)), p: 2, dim: 1);
        Tensor y = nn.functional.normalize(x + 0.8 * randn([6, 32], ScalarType.Float64, generator: new Generator(22)), p: 2, dim: 1);
        double[] approximate = (layer.Sketch(x, x) * layer.Sketch(y, y)).sum([1]).data<double>().ToArray();
        double[] exact = (x * y).sum([1]).pow(2).data<double>().ToArray();
        for (int i = 0; i < exact.Length; i++) approximate[i].Should().BeApproximately(exact[i], 0.08, $"pair {i}");
        approximate.Zip(exact, (p, q) => Math.Abs(p - q)).Average().Should().BeLessThan(0.04);
    }

    [Fact]
    public void CompactPooling_AveragesSketchesOverLocations_ThenNormalises()
    {
        using var scope = NewDisposeScope();
        Tensor maps = randn([2, 4, 3, 2], ScalarType.Float64, generator: new Generator(31));
        var raw = new CompactBilinearPooling(4, 4, 16, seed: 9, normalize: false);
        Tensor rows = maps.permute(0, 2, 3, 1).reshape(12, 4);
        Tensor expected = raw.Sketch(rows, rows).reshape(2, 6, 16).mean([1]);
        raw.call(maps).allclose(expected, rtol: 1e-12, atol: 1e-12).Should().BeTrue();

        Tensor normalised = new CompactBilinearPooling(4, 4, 16, seed: 9).call(maps);
        normalised.shape.Should().Equal(2, 16);
        normalised.norm(dim: 1).allclose(ones(2, dtype: ScalarType.Float64), atol: 1e-9).Should().BeTrue();
    }

    [Fact]
    public void CompactPooling_GradientThroughTheFfts_MatchesFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        var layer = new CompactBilinearPooling(3, 3, 8, seed: 2);
        // 3 × 3 channel pairs fall into 8 buckets, so some buckets are empty: zero up to FFT round-off, where the signed
        // square root must not jump (with sign(z)·√(|z| + ε) this check failed by a factor of 30).
        Tensor weights = randn([2, 8], ScalarType.Float64, generator: new Generator(51));
        Tensor maps = randn([2, 3, 2, 2], ScalarType.Float64, generator: new Generator(52));
        GradientCheck.AssertMatches(x => (layer.call(x) * weights).sum(), maps);
    }

    [Fact]
    public void CompactHashes_AreReproducibleFromTheSeed_AndChannelCountsAreChecked()
    {
        var first = new CompactBilinearPooling(64, 64, 128, seed: 5);
        var again = new CompactBilinearPooling(64, 64, 128, seed: 5);
        var other = new CompactBilinearPooling(64, 64, 128, seed: 6);
        again.FirstHashes.Should().Equal(first.FirstHashes);
        again.SecondSigns.Should().Equal(first.SecondSigns);
        other.FirstHashes.Should().NotEqual(first.FirstHashes);
        first.FirstHashes.Should().NotEqual(first.SecondHashes);
        first.FirstHashes.Should().OnlyContain(h => h >= 0 && h < 128);
        first.FirstSigns.Should().OnlyContain(s => s == 1 || s == -1);
        using var scope = NewDisposeScope();
        var act = () => first.call(zeros(1, 32, 2, 2));
        act.Should().Throw<ArgumentException>().WithMessage("*64 channels*32*");
    }
}
