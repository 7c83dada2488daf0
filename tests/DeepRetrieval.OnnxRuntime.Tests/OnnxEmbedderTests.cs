using DeepRetrieval.OnnxRuntime.Models;
using DeepRetrieval.OnnxRuntime.Preprocessing;
using DeepRetrieval.Pooling;
using DeepRetrieval.Transforms;
using Microsoft.ML.OnnxRuntime;

namespace DeepRetrieval.OnnxRuntime.Tests;

/// <summary>
/// The embedder on small models exported from PyTorch by Reference/make_fixtures.py, whose expected outputs PyTorch computed there
/// (cirtorch's GeM formula, MAC and SPoC in float64 from PyTorch's float32 feature maps).
/// </summary>
public class OnnxEmbedderTests
{
    private const int Images = 5;
    private const float Tolerance = 1e-5f;

    private static readonly string TinyCnn = TestFiles.Reference("tiny_cnn.onnx");
    private static readonly float[] ImagePlanes = TestFiles.Npy("images.npy");

    private static OnnxEmbedderOptions Raw(string? output = null, IFeatureMapPooling? pooling = null) =>
        new() { OutputName = output, Pooling = pooling, L2Normalize = false };

    private static void ShouldBeClose(float[] actual, float[] expected, float tolerance = Tolerance)
    {
        actual.Should().HaveSameCount(expected);
        actual.Zip(expected, (a, b) => MathF.Abs(a - b)).Max().Should().BeLessThanOrEqualTo(tolerance);
        expected.Select(MathF.Abs).Max().Should().BeGreaterThan(0.01f, "the reference must not be trivially zero");
    }

    [Fact]
    public void Embed_UsesAnNByDOutputAsItIs_AndMatchesPyTorch()
    {
        using var embedder = new OnnxEmbedder(TinyCnn, Raw());
        embedder.InputName.Should().Be("images");
        embedder.OutputName.Should().Be("embedding");
        embedder.OutputShape.Should().Equal(16L);
        embedder.Pooling.Should().BeNull();
        embedder.FixedBatchSize.Should().BeNull();
        (embedder.InputChannels, embedder.InputHeight, embedder.InputWidth).Should().Be((3, 32, 32));
        embedder.Dimension.Should().Be(16);
        ShouldBeClose(embedder.Embed(ImagePlanes, Images), TestFiles.Npy("expected_embedding.npy"));
    }

    [Fact]
    public void Embed_PoolsAFeatureMapWithGemByDefault_AndL2Normalises()
    {
        using var embedder = new OnnxEmbedder(TinyCnn, new OnnxEmbedderOptions { OutputName = "features" });
        embedder.OutputShape.Should().Equal(16L, 8L, 8L);
        embedder.Pooling.Should().BeOfType<GemPooling>().Which.P.Should().Equal(3f);
        float[] embeddings = embedder.Embed(ImagePlanes, Images);
        ShouldBeClose(embeddings, TestFiles.Npy("expected_gem3_l2.npy"));
        for (int i = 0; i < Images; i++)
            Math.Sqrt(embeddings.Skip(i * 16).Take(16).Sum(v => (double)v * v)).Should().BeApproximately(1, 1e-6);
    }

    [Fact]
    public void Embed_PoolsWithTheChosenPooling()
    {
        using (var gem2 = new OnnxEmbedder(TinyCnn, Raw("features", new GemPooling(2f))))
            ShouldBeClose(gem2.Embed(ImagePlanes, Images), TestFiles.Npy("expected_gem2_raw.npy"));
        using (var mac = new OnnxEmbedder(TinyCnn, Raw("features", FeatureMapPoolings.Parse("MAC"))))
            ShouldBeClose(mac.Embed(ImagePlanes, Images), TestFiles.Npy("expected_mac_raw.npy"));
    }

    [Fact]
    public void Embed_SelectsAnIntermediateValueByName()
    {
        // The first ReLU's output is no graph output; the embedder adds it and pools its 8 × 16 × 16 maps.
        string firstStage = OnnxModelGraph.Read(TinyCnn).Nodes.First(n => n.OpType == "Relu").Outputs[0];
        using var embedder = new OnnxEmbedder(TinyCnn, Raw(firstStage, new SpocPooling()));
        embedder.OutputName.Should().Be(firstStage);
        embedder.OutputShape.Should().Equal(8L, 16L, 16L);
        ShouldBeClose(embedder.Embed(ImagePlanes, Images), TestFiles.Npy("expected_first_stage_spoc_raw.npy"));
    }

    [Fact]
    public void Constructor_RejectsAnUnknownValueName_ListingTheOutputs()
    {
        FluentActions.Invoking(() => new OnnxEmbedder(TinyCnn, Raw("no_such_value")))
            .Should().Throw<ArgumentException>().WithMessage("*no value named 'no_such_value'*'embedding', 'features'*feature map its last pooling reads*");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(64)]
    public void Embed_GivesTheSameResults_ForEveryBatchSize(int batchSize)
    {
        using var embedder = new OnnxEmbedder(TinyCnn, new OnnxEmbedderOptions { OutputName = "features", BatchSize = batchSize });
        embedder.BatchSize.Should().Be(batchSize);
        ShouldBeClose(embedder.Embed(ImagePlanes, Images), TestFiles.Npy("expected_gem3_l2.npy"));
    }

    [Fact]
    public void Embed_RunsAFixedBatchModelInFullBatches_PaddingTheLast()
    {
        // The same network exported with a fixed batch of 2: five images run as 2 + 2 + (1 + padding).
        using var embedder = new OnnxEmbedder(TestFiles.Reference("tiny_cnn_batch2.onnx"), new OnnxEmbedderOptions { OutputName = "features", BatchSize = 16 });
        embedder.FixedBatchSize.Should().Be(2);
        embedder.BatchSize.Should().Be(2);
        ShouldBeClose(embedder.Embed(ImagePlanes, Images), TestFiles.Npy("expected_gem3_l2.npy"));
        ShouldBeClose(embedder.Embed(ImagePlanes.AsSpan(0, 3 * 32 * 32), 1), TestFiles.Npy("expected_gem3_l2.npy").Take(16).ToArray());
    }

    [Fact]
    public void Embed_RunsADynamicSizeModel_AtTheConfiguredAndAtOtherSizes()
    {
        string anySize = TestFiles.Reference("tiny_cnn_any_size.onnx");
        using var embedder = new OnnxEmbedder(anySize, Raw("features") with { InputHeight = 32, InputWidth = 32, L2Normalize = true });
        embedder.OutputShape.Should().Equal(16L, 8L, 8L);
        ShouldBeClose(embedder.Embed(ImagePlanes, Images), TestFiles.Npy("expected_gem3_l2.npy"));

        using var raw = new OnnxEmbedder(anySize, Raw("features") with { InputHeight = 32, InputWidth = 32 });
        var wide = new float[2 * 16];
        raw.Embed(TestFiles.Npy("images_48x40.npy"), 2, 48, 40, wide);
        ShouldBeClose(wide, TestFiles.Npy("expected_48x40_gem3_raw.npy"));
    }

    [Fact]
    public void Constructor_NeedsTheInputSize_WhenTheModelLeavesItDynamic()
    {
        FluentActions.Invoking(() => new OnnxEmbedder(TestFiles.Reference("tiny_cnn_any_size.onnx")))
            .Should().Throw<ArgumentException>().WithMessage("*leaves the input height dynamic; set InputHeight*");
    }

    [Fact]
    public void Constructor_RejectsAnInputSizeThatContradictsTheModel()
    {
        FluentActions.Invoking(() => new OnnxEmbedder(TinyCnn, new OnnxEmbedderOptions { InputWidth = 64 }))
            .Should().Throw<ArgumentException>().WithMessage("*fixes the input width at 32; InputWidth is 64*");
    }

    [Fact]
    public void Embed_RejectsAnotherSize_OnAFixedSizeModel()
    {
        using var embedder = new OnnxEmbedder(TinyCnn);
        FluentActions.Invoking(() => embedder.Embed(new float[3 * 48 * 40], 1, 48, 40, new float[16]))
            .Should().Throw<ArgumentException>().WithMessage("*takes 32 × 32 images; got 48 × 40*");
    }

    [Fact]
    public void Embed_RejectsBatchesAndOutputsOfTheWrongLength()
    {
        using var embedder = new OnnxEmbedder(TinyCnn);
        FluentActions.Invoking(() => embedder.Embed(new float[2 * 32 * 32], 1))
            .Should().Throw<ArgumentException>().WithMessage("*1 image(s) of 3 × 32 × 32 = 3072 floats*got 2048*");
        FluentActions.Invoking(() => embedder.Embed(new float[3072], 1, new float[15]))
            .Should().Throw<ArgumentException>().WithMessage("*1 embedding(s) of 16 floats*got 15*");
        FluentActions.Invoking(() => embedder.Embed(new float[3072], -1)).Should().Throw<ArgumentOutOfRangeException>();
        embedder.Embed([], 0).Should().BeEmpty();
    }

    [Fact]
    public void Embed_RunsAGreyModel_WithAOneChannelNormalisation()
    {
        var grey = new InputNormalization(ChannelOrder.Rgb, 255f, [0.5f], [0.5f]);
        using var embedder = new OnnxEmbedder(TestFiles.Reference("tiny_grey_cnn.onnx"), Raw("features") with { Normalization = grey });
        embedder.InputChannels.Should().Be(1);
        ShouldBeClose(embedder.Embed(TestFiles.Npy("grey_images.npy"), 3), TestFiles.Npy("expected_grey_gem3_raw.npy"));

        FluentActions.Invoking(() => new OnnxEmbedder(TestFiles.Reference("tiny_grey_cnn.onnx")))
            .Should().Throw<ArgumentException>().WithMessage("*takes 1-channel images, but the normalisation*makes 3*");
    }

    [Theory]
    [InlineData("two_inputs.onnx", "*has 2 inputs ('a', 'b'); the embedder runs models with one image input*")]
    [InlineData("rank3_input.onnx", "*takes a rank-3 input 'signal' [?, 3, 32]; the embedder feeds N × C × H × W images*")]
    [InlineData("int_images.onnx", "*takes a Int64 tensor as 'images'; the embedder feeds float32 images*")]
    [InlineData("tokens.onnx", "*'tokens' has rank 3 [*]; the embedder takes N × D embeddings or N × C × H × W feature maps*")]
    public void Constructor_RejectsModelsThatAreNotImageEmbedders(string model, string message)
    {
        var options = model == "tokens.onnx" ? new OnnxEmbedderOptions { InputHeight = 4, InputWidth = 4 } : null;
        FluentActions.Invoking(() => new OnnxEmbedder(TestFiles.Reference(model), options)).Should().Throw<ArgumentException>().WithMessage(message);
    }

    [Fact]
    public void Constructor_RejectsPoolingOnAnNByDOutput()
    {
        FluentActions.Invoking(() => new OnnxEmbedder(TinyCnn, new OnnxEmbedderOptions { Pooling = new MacPooling() }))
            .Should().Throw<ArgumentException>().WithMessage("*'embedding' is already N × 16; pooling (MAC) applies to N × C × H × W feature maps*");
        FluentActions.Invoking(() => new OnnxEmbedder(TinyCnn, Raw("features", new GemPooling([3f, 3f]))))
            .Should().Throw<ArgumentException>().WithMessage("*does not fit the 16-channel maps*");
    }

    [Fact]
    public void Constructor_ThrowsInvalidData_ForFilesThatAreNotOnnxModels()
    {
        string folder = Directory.CreateTempSubdirectory("onnx-embedder-").FullName;
        try
        {
            string empty = Path.Combine(folder, "empty.onnx");
            File.WriteAllBytes(empty, []);
            string text = Path.Combine(folder, "text.onnx");
            File.WriteAllText(text, "This is not a model.\n");
            string truncated = Path.Combine(folder, "truncated.onnx");
            File.WriteAllBytes(truncated, File.ReadAllBytes(TinyCnn)[..3000]);
            string unknownOp = Path.Combine(folder, "unknown-op.onnx");
            byte[] bytes = File.ReadAllBytes(TinyCnn);
            ReplaceAll(bytes, "Relu"u8, "Rexu"u8);
            File.WriteAllBytes(unknownOp, bytes);

            foreach (string path in new[] { empty, text, truncated, TestFiles.Photos[0], unknownOp })
                FluentActions.Invoking(() => new OnnxEmbedder(path)).Should().Throw<InvalidDataException>().WithMessage($"*{Path.GetFileName(path)}*");
            FluentActions.Invoking(() => new OnnxEmbedder(Path.Combine(folder, "missing.onnx"))).Should().Throw<FileNotFoundException>();
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void ReplaceAll(byte[] bytes, ReadOnlySpan<byte> from, ReadOnlySpan<byte> to)
    {
        int replaced = 0;
        for (int i = bytes.AsSpan().IndexOf(from); i >= 0; i = bytes.AsSpan().IndexOf(from))
        {
            to.CopyTo(bytes.AsSpan(i));
            replaced++;
        }
        replaced.Should().BePositive();
    }

    [Fact]
    public void Embed_WhitensTheL2NormalisedDescriptors_ThenL2Normalises()
    {
        using var raw = new OnnxEmbedder(TinyCnn, Raw("features"));
        float[] descriptors = raw.Embed(ImagePlanes, Images);
        // A PCA learned on noisy copies of the five normalised descriptors (enough rows for a 16-d covariance).
        var random = new Random(3);
        float[] normalised = NormaliseRows(descriptors, 16);
        float[] training = Enumerable.Range(0, 200).SelectMany(r => normalised.Skip(r % Images * 16).Take(16).Select(v => v + (float)(random.NextDouble() - 0.5) * 0.05f)).ToArray();
        var pca = new PcaTransform(16, 8, whiten: true);
        pca.Train(training);

        using var whitened = new OnnxEmbedder(TinyCnn, new OnnxEmbedderOptions { OutputName = "features", Whitening = pca });
        whitened.Dimension.Should().Be(8);
        var expected = new float[Images * 8];
        pca.Apply(normalised, expected);
        ShouldBeClose(whitened.Embed(ImagePlanes, Images), NormaliseRows(expected, 8));

        FluentActions.Invoking(() => new OnnxEmbedder(TinyCnn, new OnnxEmbedderOptions { Whitening = new PcaTransform(16, 4) }))
            .Should().Throw<ArgumentException>().WithMessage("*PCA must be trained*");
        var wrong = new PcaTransform(8, 4);
        wrong.Train(training.Take(100 * 8).ToArray());
        FluentActions.Invoking(() => new OnnxEmbedder(TinyCnn, new OnnxEmbedderOptions { OutputName = "features", Whitening = wrong }))
            .Should().Throw<ArgumentException>().WithMessage("*takes 8-d vectors; the pooled output has 16*");
    }

    private static float[] NormaliseRows(float[] rows, int dimension)
    {
        var result = new float[rows.Length];
        for (int r = 0; r < rows.Length / dimension; r++)
        {
            double norm = Math.Sqrt(rows.Skip(r * dimension).Take(dimension).Sum(v => (double)v * v));
            for (int j = 0; j < dimension; j++) result[r * dimension + j] = (float)(rows[r * dimension + j] / norm);
        }
        return result;
    }

    [Fact]
    public void Fingerprint_NamesTheModelNormalisationAndPooling_AndIgnoresHowItRuns()
    {
        var options = new OnnxEmbedderOptions { OutputName = "features" };
        using var first = new OnnxEmbedder(TinyCnn, options);
        using var second = new OnnxEmbedder(TinyCnn, options with { BatchSize = 3, IntraOpThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL, AllowSpinning = true });
        second.Fingerprint.Should().Be(first.Fingerprint);
        first.Fingerprint.Should().MatchRegex("^[0-9a-f]{64}$");
        first.ModelSha256.Should().Be(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(TinyCnn))));
        first.Configuration.Should().Be(
            "deepretrieval-onnx-embedder/1\n" +
            $"model.sha256={first.ModelSha256}\n" +
            "input=images 3x32x32\n" +
            "output=features\n" +
            "normalization=rgb/255 mean=[0.485;0.456;0.406] std=[0.229;0.224;0.225]\n" +
            "pooling=GeM(p=3,eps=1E-06)\n" +
            "whitening=none\n" +
            "l2=true\n");

        string[] others =
        [
            new OnnxEmbedder(TinyCnn, options with { Pooling = new GemPooling(4f) }).Fingerprint,
            new OnnxEmbedder(TinyCnn, options with { Normalization = InputNormalization.UnitRangeRgb }).Fingerprint,
            new OnnxEmbedder(TinyCnn, options with { L2Normalize = false }).Fingerprint,
            new OnnxEmbedder(TinyCnn).Fingerprint,
            new OnnxEmbedder(TestFiles.Reference("tiny_cnn_batch2.onnx"), options).Fingerprint,
        ];
        others.Should().OnlyHaveUniqueItems().And.NotContain(first.Fingerprint);
    }

    [Fact]
    public void Embed_HonoursCancellation_AndStaysUsable()
    {
        using var embedder = new OnnxEmbedder(TinyCnn, Raw() with { BatchSize = 1 });
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        FluentActions.Invoking(() => embedder.Embed(ImagePlanes, Images, cancelled.Token)).Should().Throw<OperationCanceledException>();
        ShouldBeClose(embedder.Embed(ImagePlanes, Images), TestFiles.Npy("expected_embedding.npy"));
    }

    [Fact]
    public void Embed_GivesTheSameResults_FromManyThreadsAtOnce()
    {
        using var embedder = new OnnxEmbedder(TinyCnn, new OnnxEmbedderOptions { OutputName = "features", BatchSize = 2 });
        float[] expected = embedder.Embed(ImagePlanes, Images);
        var results = new float[16][];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => results[i] = embedder.Embed(ImagePlanes, Images));
        foreach (float[] result in results) result.Should().Equal(expected);
    }

    [Fact]
    public void Constructor_UsesTheAppsSessionOptionsOrConfigureCallback()
    {
        using var appOptions = new SessionOptions { IntraOpNumThreads = 1 };
        using (var embedder = new OnnxEmbedder(TinyCnn, Raw() with { SessionOptions = appOptions }))
            ShouldBeClose(embedder.Embed(ImagePlanes, Images), TestFiles.Npy("expected_embedding.npy"));
        appOptions.IntraOpNumThreads.Should().Be(1, "the app's options stay usable: the embedder does not dispose them");

        bool configured = false;
        using (var embedder = new OnnxEmbedder(TinyCnn, Raw() with { ConfigureSession = o => { configured = true; o.AppendExecutionProvider_CPU(0); } }))
            ShouldBeClose(embedder.Embed(ImagePlanes, Images), TestFiles.Npy("expected_embedding.npy"));
        configured.Should().BeTrue();

        FluentActions.Invoking(() => new OnnxEmbedder(TinyCnn, new OnnxEmbedderOptions { SessionOptions = appOptions, IntraOpThreads = 2 }))
            .Should().Throw<ArgumentException>().WithMessage("*leave IntraOpThreads, GraphOptimizationLevel, EnableMemoryArena, AllowSpinning and ConfigureSession unset*");
    }

    [Theory]
    [InlineData(0, "*BatchSize must be positive*")]
    [InlineData(-1, "*BatchSize must be positive*")]
    public void Constructor_RejectsInvalidOptions(int batchSize, string message)
    {
        FluentActions.Invoking(() => new OnnxEmbedder(TinyCnn, new OnnxEmbedderOptions { BatchSize = batchSize }))
            .Should().Throw<ArgumentException>().WithMessage(message);
        FluentActions.Invoking(() => new OnnxEmbedder(TinyCnn, new OnnxEmbedderOptions { IntraOpThreads = -2 }))
            .Should().Throw<ArgumentException>().WithMessage("*IntraOpThreads must be positive*");
    }

    [Fact]
    public void EmbedPixels_NormalisesThenEmbeds()
    {
        var random = new Random(11);
        byte[] pixels = new byte[32 * 32 * 3];
        random.NextBytes(pixels);
        using var embedder = new OnnxEmbedder(TinyCnn, new OnnxEmbedderOptions { OutputName = "features" });
        float[] expected = embedder.Embed(InputNormalization.ImageNet.Normalize(pixels, 32, 32, PixelFormat.Rgb24), 1);
        embedder.EmbedPixels(pixels, 32, 32, PixelFormat.Rgb24).Should().Equal(expected);
        FluentActions.Invoking(() => embedder.EmbedPixels(pixels, 16, 64, PixelFormat.Rgb24))
            .Should().Throw<ArgumentException>().WithMessage("*takes 32 × 32 (W × H) images; got 16 × 64. Resize first*");
    }

    [Fact]
    public void Embed_AfterDispose_Throws()
    {
        var embedder = new OnnxEmbedder(TinyCnn);
        embedder.Dispose();
        embedder.Dispose();
        FluentActions.Invoking(() => embedder.Embed(ImagePlanes, Images)).Should().Throw<ObjectDisposedException>();
    }
}
