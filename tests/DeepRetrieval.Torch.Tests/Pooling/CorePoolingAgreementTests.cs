using DeepRetrieval.Pooling;
using DeepRetrieval.Torch.Pooling;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Pooling;

/// <summary>
/// The core package's span poolings (DeepRetrieval.Pooling, used by the ONNX Runtime embedder) against this package's TorchSharp
/// layers on the same float32 maps: every pooling, map sizes from 1 × 1 to ones where cirtorch's R-MAC grid has ties or repeats.
/// </summary>
public class CorePoolingAgreementTests
{
    private const float Tolerance = 1e-5f;

    public static TheoryData<int, int, int> Shapes => new()
    {
        { 512, 7, 7 },   // ResNet-18/50 at 224 × 224
        { 64, 5, 9 },    // an R-MAC overlap tie broken by float32 rounding
        { 16, 2, 32 },   // R-MAC starts that float32 rounding moves
        { 8, 11, 47 },
        { 32, 14, 10 },
        { 4, 1, 1 },
        { 3, 1, 17 },
    };

    // Two images: ReLU-like maps (non-negative, about half exact zeros) scaled up to ~6, as a backbone's last stage gives, and signed
    // maps, which exercise GeM's clamp and MAC/R-MAC on negatives.
    private static float[] Maps(int channels, int height, int width, int seed)
    {
        var random = new Random(seed);
        int length = channels * height * width;
        var maps = new float[2 * length];
        for (int i = 0; i < length; i++) maps[i] = MathF.Max(0f, (float)(random.NextDouble() * 2 - 1) * 6f);
        for (int i = length; i < 2 * length; i++) maps[i] = (float)(random.NextDouble() * 2 - 1) * 3f;
        return maps;
    }

    private static void ShouldAgree(nn.Module<Tensor, Tensor> layer, IFeatureMapPooling pooling, int channels, int height, int width, int seed)
    {
        using var scope = NewDisposeScope();
        float[] maps = Maps(channels, height, width, seed);
        float[] expected;
        using (no_grad())
            expected = layer.call(tensor(maps, [2, channels, height, width])).data<float>().ToArray();
        var actual = new float[2 * pooling.OutputDimension(channels)];
        pooling.Pool(maps, new FeatureMapShape(channels, height, width), actual);
        actual.Should().HaveSameCount(expected);
        float worst = actual.Zip(expected, (a, b) => MathF.Abs(a - b)).Max();
        worst.Should().BeLessThanOrEqualTo(Tolerance, $"{pooling.Description} on 2 × {channels} × {height} × {width} maps");
        expected.Select(MathF.Abs).Max().Should().BeGreaterThan(0.01f, "the reference must not be trivially zero");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Mac_EqualsTheTorchLayer(int channels, int height, int width) =>
        ShouldAgree(new MAC(), new MacPooling(), channels, height, width, 1);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Spoc_EqualsTheTorchLayer(int channels, int height, int width) =>
        ShouldAgree(new SPoC(), new SpocPooling(), channels, height, width, 2);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Gem_EqualsTheTorchLayer_ForSeveralExponents(int channels, int height, int width)
    {
        foreach (float p in new[] { 1f, 2f, 3f, 4.5f, 1.7f })
            ShouldAgree(new GeM(p, learnable: false), new GemPooling(p), channels, height, width, 3);
        ShouldAgree(new GeM(3, learnable: false, epsilon: 0.01), new GemPooling(3f, epsilon: 0.01f), channels, height, width, 4);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Gem_WithOnePPerChannel_EqualsTheTorchLayer(int channels, int height, int width)
    {
        float[] p = Enumerable.Range(0, channels).Select(c => 1.5f + c % 5 * 0.75f).ToArray();
        var layer = new GeM(3, learnable: false, channels: channels);
        using (no_grad())
            layer.P.copy_(tensor(p));
        ShouldAgree(layer, new GemPooling(p), channels, height, width, 5);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Rmac_EqualsTheTorchLayer_WithAndWithoutTheWholeMap(int channels, int height, int width)
    {
        foreach (int levels in new[] { 1, 3, 5 })
        {
            ShouldAgree(new RMAC(levels), new RmacPooling(levels), channels, height, width, 6);
            ShouldAgree(new RMAC(levels, includeWholeMap: false), new RmacPooling(levels, includeWholeMap: false), channels, height, width, 7);
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(5, 9)]
    [InlineData(2, 32)]
    [InlineData(7, 7)]
    [InlineData(14, 10)]
    [InlineData(11, 47)]
    [InlineData(60, 3)]
    public void RmacRegions_EqualTheTorchLayersRegions(int height, int width)
    {
        foreach (int levels in new[] { 1, 3, 5 })
        {
            var core = RmacPooling.Regions(height, width, levels).Select(r => (r.Top, r.Left, r.Size));
            var torch = RMAC.Regions(height, width, levels).Select(r => (r.Top, r.Left, r.Size));
            core.Should().Equal(torch);
        }
    }
}
