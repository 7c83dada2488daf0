using DeepRetrieval.Torch.Backbones;
using DeepRetrieval.Torch.Data;
using DeepRetrieval.Torch.Extraction;
using DeepRetrieval.Torch.Heads;
using DeepRetrieval.Torch.Models;
using DeepRetrieval.Torch.Tests.Weights;
using DeepRetrieval.Torch.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Models;

public sealed class RetrievalModelTests
{
    private static RetrievalModelConfig SmallCnn(string head = "none", string pooling = "gem", int? dimension = null) =>
        RetrievalModelConfig.For("small_cnn") with { Head = head, Pooling = pooling, EmbeddingDimension = dimension ?? 128 };

    [Theory]
    [InlineData("none", "gem", 128)]
    [InlineData("linear", "mac", 16)]
    [InlineData("linear_bn", "spoc", 8)]
    [InlineData("bnneck", "rmac(levels=2)", 12)]
    [InlineData("bnneck(project=false)", "gem(p=4, learnable=false)", 128)]
    [InlineData("linear", "bilinear", 8)]
    [InlineData("none", "compact_bilinear(dim=64, seed=3)", 64)]
    public void Forward_GivesUnitEmbeddingsOfTheConfiguredWidth(string head, string pooling, int dimension)
    {
        using var scope = NewDisposeScope();
        var model = new RetrievalModel(SmallCnn(head, pooling, dimension), seed: 1);
        model.eval();
        var embeddings = model.forward(rand(3, 1, 28, 28));
        embeddings.shape.Should().Equal(3L, dimension);
        embeddings.norm(1).data<float>().ToArray().Should().OnlyContain(n => Math.Abs(n - 1) < 1e-5);
    }

    [Fact]
    public void Defaults_ComeFromTheBackboneRegistry()
    {
        var config = RetrievalModelConfig.For("small_cnn");
        config.Should().Be(new RetrievalModelConfig("small_cnn", 1, "gem", 128, "none", Metric.Cosine, 28, [0.2860f], [0.3530f]));
        RetrievalModelConfig.For("small_cnn", 64).Head.Should().Be("linear");
        config.PooledDimension.Should().Be(128);
        (config with { Pooling = "bilinear" }).PooledDimension.Should().Be(128 * 128);
    }

    [Fact]
    public void Forward_NormalisesImagesInside_ThenRunsBackboneAndPooling_AndLeavesL2EmbeddingsUnnormalised()
    {
        using var scope = NewDisposeScope();
        var model = new RetrievalModel(SmallCnn(pooling: "spoc") with { Metric = Metric.L2 }, seed: 2);
        model.eval();
        var images = rand(2, 1, 28, 28);
        var expected = model.Backbone.forward((images - 0.2860f) / 0.3530f).mean([2, 3]);
        model.forward(images).allclose(expected, 1e-5, 1e-6).Should().BeTrue();
        model.Metric.Should().Be(Metric.L2);
    }

    [Fact]
    public void ForwardBoth_WithBNNeck_GivesTheFeatureBeforeAndAfterBatchNorm()
    {
        using var scope = NewDisposeScope();
        var model = new RetrievalModel(SmallCnn("bnneck", dimension: 6), seed: 3);
        model.eval();
        var images = rand(2, 1, 28, 28);
        var (before, after) = model.ForwardBoth(images);
        // Fresh batch norm in eval mode: running mean 0, variance 1, weight 1, bias 0, so after = before / sqrt(1 + 1e-5).
        after.allclose(before / Math.Sqrt(1 + 1e-5), 1e-5, 1e-6).Should().BeTrue();
        var head = (EmbeddingHead)model.Head;
        var pooled = model.Pool.forward(model.Backbone.forward((images - 0.2860f) / 0.3530f));
        before.allclose(head.Projection!.forward(pooled), 1e-6, 1e-7).Should().BeTrue("the metric feature is the projection");
        model.forward(images).allclose(nn.functional.normalize(after, p: 2, dim: 1), 1e-5, 1e-6).Should().BeTrue();
        before.norm(1).data<float>().ToArray().Should().Contain(n => Math.Abs(n - 1) > 1e-3, "features before the neck are not normalised");
    }

    [Fact]
    public void ForwardBoth_WithLinearBn_GivesTheBatchNormalisedEmbeddingTwice()
    {
        using var scope = NewDisposeScope();
        var model = new RetrievalModel(SmallCnn("linear_bn", dimension: 6), seed: 3);
        model.train();
        var (before, after) = model.ForwardBoth(rand(4, 1, 28, 28));
        ReferenceEquals(before, after).Should().BeTrue("the batch norm is part of the embedding for every loss");
        // Training-mode batch norm with weight 1, bias 0: every column has mean 0 over the batch.
        after.mean([0]).abs().max().item<float>().Should().BeLessThan(1e-5f);
    }

    [Fact]
    public void SaveThenLoad_GivesTheSameEmbeddingsBitForBit_AndTheSameConfig()
    {
        using var scope = NewDisposeScope();
        using var dir = new WeightFixtures.TempDirectory();
        var config = SmallCnn("bnneck", "gem(p=2.5)", dimension: 10) with { Metric = Metric.InnerProduct };
        var model = new RetrievalModel(config, seed: 4);
        model.train();
        model.forward(rand(4, 1, 28, 28)); // moves the batch-norm running statistics away from their initial values
        using (no_grad()) model.Pool.parameters().First().fill_(3.7);
        model.eval();
        var images = rand(3, 1, 28, 28);
        var expected = model.forward(images);
        string path = dir.File("model.safetensors");
        model.Save(path);
        model.forward(images).bytes.ToArray().Should().Equal(expected.bytes.ToArray(), "saving must leave the model usable");

        var loaded = RetrievalModel.Load(path);
        loaded.Config.Should().Be(config);
        loaded.Metric.Should().Be(Metric.InnerProduct);
        loaded.training.Should().BeFalse();
        loaded.forward(images).bytes.ToArray().Should().Equal(expected.bytes.ToArray());
        var header = SafeTensors.ReadHeader(path);
        header.Metadata["format"].Should().Be(RetrievalModel.FormatName);
        header.Metadata["format_version"].Should().Be("2");
        header.Metadata["config"].Should().Contain("\"pooling\":\"gem(p=2.5)\"").And.Contain("\"metric\":\"inner_product\"");
        header.Entries.Select(e => e.Name).Should().Contain(["pool.p", "head.projection.linear.weight", "head.neck.bottleneck.running_var", "backbone.features.0.conv.weight"])
            .And.NotContain(["mean", "std"]);
    }

    [Fact]
    public void Load_ReadsAVersion1File_WithItsGemFieldsNormalizeFlagAndTopLevelHeadKeys()
    {
        using var scope = NewDisposeScope();
        using var dir = new WeightFixtures.TempDirectory();
        var model = new RetrievalModel(SmallCnn("bnneck", dimension: 10), seed: 8);
        model.eval();
        var images = rand(2, 1, 28, 28);
        var expected = model.forward(images);
        string path = dir.File("v1.safetensors");
        model.Save(path);
        // Rewrite the file as version 1 wrote it: GeM's p and learnability as fields, a normalize flag, head layers at the top.
        var content = SafeTensors.Load(path);
        var tensors = content.Tensors.ToDictionary(kv => kv.Key.StartsWith("head.", StringComparison.Ordinal) ? kv.Key["head.".Length..] : kv.Key, kv => kv.Value);
        var metadata = new Dictionary<string, string>
        {
            ["format"] = RetrievalModel.FormatName,
            ["format_version"] = "1",
            ["config"] = """{"backbone":"small_cnn","input_channels":1,"pooling":"gem","gem_p":3,"gem_learnable":true,"embedding_dimension":10,"head":"bnneck","normalize":true,"input_size":28,"mean":[0.286],"std":[0.353]}""",
        };
        SafeTensors.Save(path, tensors, metadata);

        var loaded = RetrievalModel.Load(path);

        loaded.Config.Pooling.Should().Be("gem(p=3, learnable=true)");
        loaded.Config.Metric.Should().Be(Metric.Cosine);
        loaded.forward(images).allclose(expected, 0, 0).Should().BeTrue();
    }

    [Theory]
    [InlineData("backbone", "\"small_cnn\"", "\"resnet9000\"", "*Unknown backbone 'resnet9000'*")]
    [InlineData("pooling", "\"gem\"", "\"avg\"", "*Unknown pooling 'avg'*bilinear, compact_bilinear, gem, mac, rmac, spoc*")]
    [InlineData("pooling", "\"gem\"", "\"gem(q=2)\"", "*'gem' has no parameter 'q'*p (default 3.0)*")]
    [InlineData("head", "\"bnneck\"", "\"mlp\"", "*Unknown head 'mlp'*")]
    [InlineData("metric", "\"cosine\"", "\"hamming\"", "*metric*hamming*")]
    [InlineData("embedding_dimension", "10", "9", "*head.projection.linear.weight: module [9, 128], checkpoint [10, 128]*")]
    [InlineData("input_channels", "1", "\"one\"", "*input_channels*")]
    public void Load_RejectsBadConfigurations_NamingTheProblem(string field, string oldValue, string newValue, string message)
    {
        using var scope = NewDisposeScope();
        using var dir = new WeightFixtures.TempDirectory();
        string path = SaveSmallModel(dir);
        var content = SafeTensors.Load(path);
        var metadata = content.Metadata.ToDictionary();
        string pattern = $"\"{field}\":{oldValue}";
        metadata["config"].Should().Contain(pattern);
        metadata["config"] = metadata["config"].Replace(pattern, $"\"{field}\":{newValue}");
        SafeTensors.Save(path, content.Tensors, metadata);
        FluentActions.Invoking(() => RetrievalModel.Load(path)).Should().Throw<InvalidDataException>().WithMessage(message).And.Message.Should().Contain(path);
    }

    [Fact]
    public void Load_RejectsNewerVersions_MissingTensors_AndPlainWeightFiles()
    {
        using var scope = NewDisposeScope();
        using var dir = new WeightFixtures.TempDirectory();
        string path = SaveSmallModel(dir);
        var content = SafeTensors.Load(path);

        var newer = content.Metadata.ToDictionary();
        newer["format_version"] = "3";
        SafeTensors.Save(path, content.Tensors, newer);
        FluentActions.Invoking(() => RetrievalModel.Load(path)).Should().Throw<InvalidDataException>().WithMessage("*format version 3*up to 2*");

        SafeTensors.Save(path, content.Tensors.Where(kv => kv.Key != "head.neck.bottleneck.running_mean"), content.Metadata);
        FluentActions.Invoking(() => RetrievalModel.Load(path)).Should().Throw<InvalidDataException>().WithMessage("*Missing*head.neck.bottleneck.running_mean*");

        SafeTensors.Save(path, content.Tensors);
        FluentActions.Invoking(() => RetrievalModel.Load(path)).Should().Throw<InvalidDataException>().WithMessage("*not a saved RetrievalModel*");
    }

    [Fact]
    public void Constructor_AndForward_RejectBadInput()
    {
        using var scope = NewDisposeScope();
        FluentActions.Invoking(() => new RetrievalModel(SmallCnn() with { EmbeddingDimension = 64 })).Should().Throw<ArgumentException>().WithMessage("Head: *head 'none'*must be 128*");
        FluentActions.Invoking(() => new RetrievalModel(SmallCnn("bnneck(project=false)", dimension: 64))).Should().Throw<ArgumentException>().WithMessage("*must be 128*");
        FluentActions.Invoking(() => new RetrievalModel(SmallCnn("pca_whitening", dimension: 129))).Should().Throw<ArgumentException>().WithMessage("*at most the pooled width 128*");
        FluentActions.Invoking(() => new RetrievalModel(SmallCnn() with { Mean = [0.5f, 0.5f] })).Should().Throw<ArgumentException>().WithMessage("*one value per input channel*");
        FluentActions.Invoking(() => new RetrievalModel(SmallCnn(pooling: "gem(p=nan)"))).Should().Throw<ArgumentException>().WithMessage("Pooling: *'p' must be a finite number*");
        FluentActions.Invoking(() => new RetrievalModel(SmallCnn(pooling: "gem(learnable=maybe)"))).Should().Throw<ArgumentException>().WithMessage("*'learnable' must be true or false*");
        FluentActions.Invoking(() => new RetrievalModel(SmallCnn() with { Metric = (Metric)7 })).Should().Throw<ArgumentException>().WithMessage("*metric*");
        var model = new RetrievalModel(SmallCnn(), seed: 5);
        model.Invoking(m => m.forward(rand(1, 3, 28, 28))).Should().Throw<ArgumentException>().WithMessage("*1-channel images*3 channels*");
        model.Invoking(m => m.forward(full(1, 1, 28, 28, double.NaN))).Should().Throw<ArgumentException>().WithMessage("*NaN*");
        model.Invoking(m => m.forward(rand(1, 28, 28))).Should().Throw<ArgumentException>().WithMessage("*N × C × H × W*");
    }

    [Fact]
    public void PretrainedBackboneWeights_LoadIntoTheModel_InTheConstructor_OrWithABackbonePrefix()
    {
        using var scope = NewDisposeScope();
        using var dir = new WeightFixtures.TempDirectory();
        var pretrained = new SmallCnn();
        string file = dir.File("small_cnn.safetensors");
        SafeTensors.Save(file, pretrained.state_dict());
        var built = new RetrievalModel(SmallCnn("linear", dimension: 8), pretrainedBackbone: true, weights: new PretrainedOptions { FilePath = file });
        WeightFixtures.Same(built.Backbone.state_dict()["features.6.conv.weight"], pretrained.state_dict()["features.6.conv.weight"]).Should().BeTrue();

        var model = new RetrievalModel(SmallCnn("linear", dimension: 8), seed: 6);
        var report = StateDict.Load(model, pretrained.state_dict(), KeyMapping.Identity.Rename("^", "backbone."), strict: false);
        report.Unexpected.Should().BeEmpty();
        report.Missing.Should().BeEquivalentTo("pool.p", "head.projection.linear.weight", "head.projection.linear.bias");
        WeightFixtures.Same(model.Backbone.state_dict()["features.0.conv.weight"], pretrained.state_dict()["features.0.conv.weight"]).Should().BeTrue();
        StateDict.Load(model.Backbone, pretrained.state_dict()).IsExact.Should().BeTrue();
    }

    [Fact]
    public void FitWhitening_LearnsThePcaOfThePooledDescriptors_AndTheModelEmitsWhitenedUnitRows()
    {
        using var scope = NewDisposeScope();
        var model = new RetrievalModel(SmallCnn("pca_whitening", "spoc", dimension: 16), seed: 9);
        model.train();
        using var generator = new Generator(10);
        Tensor all = rand([40, 1, 28, 28], generator: generator);
        using var images = new TensorImageSet(all);
        model.Invoking(m => m.forward(all)).Should().Throw<InvalidOperationException>().WithMessage("*not been fitted*");

        model.FitWhitening(images, batchSize: 16);

        model.training.Should().BeTrue("the training mode is restored");
        // By hand: the SPoC descriptors of the same images, whitened by a PcaWhitening fitted on them directly.
        model.eval();
        var descriptors = model.Backbone.forward((all - 0.2860f) / 0.3530f).mean([2, 3]);
        var reference = new PcaWhitening(128, 16);
        reference.Fit(descriptors);
        var whitening = (PcaWhitening)model.Head;
        whitening.Projection.abs().allclose(reference.Projection.abs(), 1e-3, 1e-4).Should().BeTrue("the same principal directions, up to sign");
        model.forward(all).norm(1).data<float>().ToArray().Should().OnlyContain(n => Math.Abs(n - 1) < 1e-5);
        FluentActions.Invoking(() => new RetrievalModel(SmallCnn()).FitWhitening(images)).Should().Throw<InvalidOperationException>().WithMessage("*pca_whitening*");
    }

    [Theory]
    [InlineData(Metric.Cosine, true)]
    [InlineData(Metric.L2, false)]
    [InlineData(Metric.InnerProduct, false)]
    public void FeatureExtractor_NormalisesExactlyWhenTheModelsMetricIsCosine(Metric metric, bool normalises)
    {
        using var scope = NewDisposeScope();
        var model = new RetrievalModel(SmallCnn("linear", dimension: 8) with { Metric = metric }, seed: 11);
        var extractor = new FeatureExtractor(model);
        extractor.Normalizes.Should().Be(normalises);
        var images = rand(3, 1, 28, 28);
        var embeddings = extractor.Embed(images);
        model.eval();
        embeddings.allclose(model.forward(images), 1e-5, 1e-6).Should().BeTrue("one forward, normalised by the model when it is cosine and by nobody else");
        new FeatureExtractor(model, new FeatureExtractorOptions { Normalize = true }).Normalizes.Should().BeTrue();
    }

    private static string SaveSmallModel(WeightFixtures.TempDirectory dir)
    {
        string path = dir.File("small.safetensors");
        new RetrievalModel(SmallCnn("bnneck", dimension: 10), seed: 7).Save(path);
        return path;
    }
}
