using DeepRetrieval.Torch.Backbones;
using TorchSharp;
using static TorchSharp.torch;
using Fixture = DeepRetrieval.Torch.Tests.Backbones.TransformerFixtureTensors;

namespace DeepRetrieval.Torch.Tests.Backbones;

public sealed class SwinTransformerTests
{
    // Built once: the structure tests only read it, and 28 M parameters take a while to initialise.
    private static readonly Lazy<SwinTransformer> SwinTiny = new(() => new SwinTransformer());

    private static SwinTransformer TinyFixtureModel()
    {
        var swin = new SwinTransformer(embedDim: 8, depths: [2, 2, 2], numHeads: [1, 2, 2], windowSize: 4, patchSize: 2, imageSize: 32);
        swin.load_state_dict(Fixture.StateDict("swin.state."), strict: true);
        swin.eval();
        return swin;
    }

    [Fact]
    public void SwinTiny_At224_Gives768By7By7_WithStagesAtStrides4To32()
    {
        using var scope = NewDisposeScope();
        var (info, factory) = SwinTransformer.Registrations().Single();
        info.Should().Be(new BackboneInfo("swin_tiny_patch4_window7_224", 768, 32, 224, BackboneInfo.ImageNetMean, BackboneInfo.ImageNetStd) { Pretrained = info.Pretrained });
        info.Pretrained!.FileName.Should().Be("swin_tiny_patch4_window7_224.ms_in1k.safetensors");
        manual_seed(1);
        var swin = (SwinTransformer)factory(new BackboneOptions());
        swin.eval();
        swin.Stages.Select(s => (s.Name, s.Channels, s.Stride)).Should().Equal(("layers.0", 96, 4), ("layers.1", 192, 8), ("layers.2", 384, 16), ("layers.3", 768, 32));
        using var noGrad = no_grad();
        var maps = swin.ForwardStages(randn(1, 3, 224, 224), "layers.0", "layers.1", "layers.2", "layers.3");
        maps.Select(m => m.shape).Should().BeEquivalentTo(new[] { new long[] { 1, 96, 56, 56 }, [1, 192, 28, 28], [1, 384, 14, 14], [1, 768, 7, 7] }, o => o.WithStrictOrdering());
    }

    [Fact]
    public void SwinTiny_WindowsAndShifts_FollowTimm()
    {
        var swin = SwinTiny.Value;
        var blocks = swin.Layers.Select(l => l.Blocks.Select(b => (b.WindowSize, b.ShiftSize)).ToArray()).ToArray();
        blocks[0].Should().Equal((7, 0), (7, 3));
        blocks[2].Should().Equal((7, 0), (7, 3), (7, 0), (7, 3), (7, 0), (7, 3));
        blocks[3].Should().Equal((7, 0), (7, 0)); // the 7 x 7 map of the last stage is a single window, never shifted
    }

    [Theory]
    [InlineData("native")]
    [InlineData("other")]
    public void EveryStage_MatchesTheTimmReference(string size)
    {
        using var scope = NewDisposeScope();
        var swin = TinyFixtureModel();
        var maps = swin.ForwardStages(Fixture.Get($"swin.input.{size}"), "layers.0", "layers.1", "layers.2");
        for (int i = 0; i < 3; i++)
        {
            var expected = Fixture.Get($"swin.layers.{i}.{size}");
            maps[i].shape.Should().Equal(expected.shape);
            maps[i].allclose(expected, rtol: 1e-4, atol: 1e-4).Should().BeTrue($"stage layers.{i} at the {size} size");
        }
        swin.forward(Fixture.Get($"swin.input.{size}")).allclose(maps[2]).Should().BeTrue();
    }

    [Fact]
    public void ShiftedWindowMask_NeverLetsATokenAttendAcrossTheRollBoundary()
    {
        const int side = 12, window = 4, shift = 2;
        var mask = SwinTransformerBlock.ShiftedWindowMask(side, side, window, shift).data<float>().ToArray();
        int area = window * window, windowsPerSide = side / window;
        mask.Length.Should().Be(windowsPerSide * windowsPerSide * area * area);
        int maskedWindows = 0;
        for (int wr = 0; wr < windowsPerSide; wr++)
        {
            for (int wc = 0; wc < windowsPerSide; wc++)
            {
                bool anyMasked = false;
                for (int i = 0; i < area; i++)
                {
                    for (int j = 0; j < area; j++)
                    {
                        // After rolling by -shift, rows and columns at or beyond side - shift came from the opposite edge.
                        bool WrappedRow(int t) => wr * window + t / window >= side - shift;
                        bool WrappedCol(int t) => wc * window + t % window >= side - shift;
                        bool neighbours = WrappedRow(i) == WrappedRow(j) && WrappedCol(i) == WrappedCol(j);
                        float entry = mask[((wr * windowsPerSide + wc) * area + i) * area + j];
                        entry.Should().Be(neighbours ? 0f : -100f, $"window ({wr}, {wc}), tokens {i} and {j}");
                        anyMasked |= entry != 0;
                    }
                }
                if (anyMasked)
                    maskedWindows++;
            }
        }
        maskedWindows.Should().Be(2 * windowsPerSide - 1, "only windows on the last row or column straddle the boundary");
    }

    [Fact]
    public void RelativePositionIndex_MatchesHandValues_ForA2By2Window()
    {
        // Positions (0,0), (0,1), (1,0), (1,1); index = (dr + 1) * 3 + (dc + 1).
        var index = WindowAttention.RelativePositionIndex(2).data<long>().ToArray();
        index.Should().Equal(4, 3, 1, 0, 5, 4, 2, 1, 7, 6, 4, 3, 8, 7, 5, 4);
    }

    [Fact]
    public void ParameterNames_AreTimms_AndTheCountIsSwinTinysWithoutTheHead()
    {
        var swin = SwinTiny.Value;
        var names = swin.state_dict().Keys.ToList();
        names.Should().Contain(["patch_embed.proj.weight", "patch_embed.norm.weight", "layers.0.blocks.0.norm1.weight",
            "layers.0.blocks.1.attn.qkv.weight", "layers.0.blocks.1.attn.proj.bias", "layers.0.blocks.1.attn.relative_position_bias_table",
            "layers.1.downsample.norm.weight", "layers.1.downsample.reduction.weight", "layers.2.blocks.5.mlp.fc1.weight",
            "layers.3.blocks.1.mlp.fc2.bias", "layers.3.blocks.1.norm2.bias", "norm.weight", "norm.bias"]);
        names.Should().NotContain(n => n.Contains("relative_position_index") || n.Contains("attn_mask") || n.StartsWith("layers.0.downsample"),
            "timm keeps these buffers out of the state dict and stage 0 has no patch merging");
        names.Should().NotContain("layers.1.downsample.reduction.bias");
        // timm's swin_tiny_patch4_window7_224 has 28,288,354 parameters, 769,000 of them in the 1000-class head.
        swin.parameters().Sum(p => p.numel()).Should().Be(28_288_354 - 769_000);
    }

    [Fact]
    public void WindowAttention_AddsTheRelativePositionBias_ToTheLogits()
    {
        using var scope = NewDisposeScope();
        // With zero query/key weights every logit is the bias alone, so the output is softmax(bias) V, computed here by hand.
        var attention = new WindowAttention(2, 1, 2);
        var linears = attention.named_modules().Select(m => m.module).OfType<TorchSharp.Modules.Linear>().ToArray();
        float[] table = [0.5f, -1f, 2f, 0f, 1f, -0.5f, 0.25f, 3f, -2f];
        using (no_grad())
        {
            linears[0].weight!.copy_(tensor(new float[] { 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1 }, [6, 2]));
            linears[0].bias!.zero_();
            linears[1].weight!.copy_(eye(2));
            linears[1].bias!.zero_();
            attention.RelativePositionBiasTable.copy_(tensor(table, [9, 1]));
        }
        float[] x = [1, 2, 3, 4, 5, 6, 7, 8];
        var output = attention.forward(tensor(x, [1, 4, 2])).data<float>().ToArray();
        var index = WindowAttention.RelativePositionIndex(2).data<long>().ToArray();
        for (int i = 0; i < 4; i++)
        {
            var weights = Enumerable.Range(0, 4).Select(j => Math.Exp(table[index[i * 4 + j]])).ToArray();
            for (int c = 0; c < 2; c++)
            {
                double expected = Enumerable.Range(0, 4).Sum(j => weights[j] * x[2 * j + c]) / weights.Sum();
                output[2 * i + c].Should().BeApproximately((float)expected, 1e-5f);
            }
        }
    }

    [Fact]
    public void BadImages_AreRejected_NamingTheProblem()
    {
        var swin = new SwinTransformer(embedDim: 8, depths: [1, 1], numHeads: [1, 1], windowSize: 2, patchSize: 2, imageSize: 16);
        swin.Invoking(s => s.forward(randn(1, 2, 16, 16))).Should().Throw<ArgumentException>().WithMessage("*3-channel*2 channels*");
        swin.Invoking(s => s.forward(randn(1, 3, 16, 18))).Should().Throw<ArgumentException>().WithMessage("*total stride 4*16 × 18*");
        FluentActions.Invoking(() => new SwinTransformer(depths: [2, 2], numHeads: [3])).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new SwinTransformer(imageSize: 200)).Should().Throw<ArgumentException>().WithMessage("*200*32*");
    }

    [Fact]
    public void FreezeStages_FreezesThePatchEmbeddingWithTheFirstLayer()
    {
        using var scope = NewDisposeScope();
        var swin = new SwinTransformer(embedDim: 8, depths: [1, 1], numHeads: [1, 1], windowSize: 2, patchSize: 2, imageSize: 16);
        swin.FreezeStages("layers.0");
        swin.forward(randn(2, 3, 16, 16)).sum().backward();
        foreach (var (name, p) in swin.named_parameters())
        {
            bool frozen = name.StartsWith("patch_embed.", StringComparison.Ordinal) || name.StartsWith("layers.0.", StringComparison.Ordinal);
            p.requires_grad.Should().Be(!frozen, name);
            (p.grad is null).Should().Be(frozen, name);
        }
    }

    [Fact]
    public void ANetworkBuiltInsideADisposeScope_StillRunsAfterIt_AndInFloat64()
    {
        SwinTransformer swin;
        using (NewDisposeScope())
            swin = new SwinTransformer(embedDim: 8, depths: [2, 2], numHeads: [1, 2], windowSize: 2, patchSize: 2, imageSize: 16);
        swin.eval();
        using var scope = NewDisposeScope();
        var images = randn(1, 3, 16, 16);
        var single = swin.forward(images);
        single.shape.Should().Equal(1, 16, 4, 4);
        swin.to(ScalarType.Float64);
        var twice = swin.forward(images.to(ScalarType.Float64));
        twice.dtype.Should().Be(ScalarType.Float64);
        twice.to(ScalarType.Float32).allclose(single, rtol: 1e-4, atol: 1e-5).Should().BeTrue();
    }
}
