using DeepRetrieval.Torch.Backbones;
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
    [InlineData("bnneck", "rmac", 12)]
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
        config.Should().Be(new RetrievalModelConfig("small_cnn", 1, "gem", 3, true, 128, "none", true, 28, [0.2860f], [0.3530f]));
        RetrievalModelConfig.For("small_cnn", 64).Head.Should().Be("linear");
    }

    [Fact]
    public void Forward_NormalisesImagesInside_ThenRunsBackboneAndPooling()
    {
        using var scope = NewDisposeScope();
        var model = new RetrievalModel(SmallCnn(pooling: "spoc") with { Normalize = false }, seed: 2);
        model.eval();
        var images = rand(2, 1, 28, 28);
        var expected = model.Backbone.forward((images - 0.2860f) / 0.3530f).mean([2, 3]);
        model.forward(images).allclose(expected, 1e-5, 1e-6).Should().BeTrue();
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
        model.forward(images).allclose(nn.functional.normalize(after, p: 2, dim: 1), 1e-5, 1e-6).Should().BeTrue();
        before.norm(1).data<float>().ToArray().Should().Contain(n => Math.Abs(n - 1) > 1e-3, "features before the neck are not normalised");
    }

    [Fact]
    public void SaveThenLoad_GivesTheSameEmbeddingsBitForBit_AndTheSameConfig()
    {
        using var scope = NewDisposeScope();
        using var dir = new WeightFixtures.TempDirectory();
        var config = SmallCnn("bnneck", dimension: 10) with { GemP = 2.5 };
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
        loaded.training.Should().BeFalse();
        loaded.forward(images).bytes.ToArray().Should().Equal(expected.bytes.ToArray());
        var header = SafeTensors.ReadHeader(path);
        header.Metadata["format"].Should().Be(RetrievalModel.FormatName);
        header.Metadata["format_version"].Should().Be("1");
        header.Entries.Select(e => e.Name).Should().Contain(["pool.p", "projection.linear.weight", "neck.bottleneck.running_var", "backbone.features.0.conv.weight"])
            .And.NotContain(["mean", "std"]);
    }

    [Theory]
    [InlineData("backbone", "\"small_cnn\"", "\"resnet9000\"", "*Unknown backbone 'resnet9000'*")]
    [InlineData("pooling", "\"gem\"", "\"avg\"", "*Unknown pooling 'avg'*gem, mac, spoc, rmac*")]
    [InlineData("head", "\"bnneck\"", "\"mlp\"", "*Unknown head 'mlp'*")]
    [InlineData("embedding_dimension", "10", "11", "*projection.linear.weight: module [11, 128], checkpoint [10, 128]*")]
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
        newer["format_version"] = "2";
        SafeTensors.Save(path, content.Tensors, newer);
        FluentActions.Invoking(() => RetrievalModel.Load(path)).Should().Throw<InvalidDataException>().WithMessage("*format version 2*up to 1*");

        SafeTensors.Save(path, content.Tensors.Where(kv => kv.Key != "neck.bottleneck.running_mean"), content.Metadata);
        FluentActions.Invoking(() => RetrievalModel.Load(path)).Should().Throw<InvalidDataException>().WithMessage("*Missing*neck.bottleneck.running_mean*");

        SafeTensors.Save(path, content.Tensors);
        FluentActions.Invoking(() => RetrievalModel.Load(path)).Should().Throw<InvalidDataException>().WithMessage("*not a saved RetrievalModel*");
    }

    [Fact]
    public void Constructor_AndForward_RejectBadInput()
    {
        using var scope = NewDisposeScope();
        FluentActions.Invoking(() => new RetrievalModel(SmallCnn() with { EmbeddingDimension = 64 })).Should().Throw<ArgumentException>().WithMessage("*head 'none'*must be 128*");
        FluentActions.Invoking(() => new RetrievalModel(SmallCnn() with { Mean = [0.5f, 0.5f] })).Should().Throw<ArgumentException>().WithMessage("*one value per input channel*");
        FluentActions.Invoking(() => new RetrievalModel(SmallCnn() with { GemP = double.NaN })).Should().Throw<ArgumentException>().WithMessage("*GeM exponent*");
        var model = new RetrievalModel(SmallCnn(), seed: 5);
        model.Invoking(m => m.forward(rand(1, 3, 28, 28))).Should().Throw<ArgumentException>().WithMessage("*1-channel images*3 channels*");
        model.Invoking(m => m.forward(full(1, 1, 28, 28, double.NaN))).Should().Throw<ArgumentException>().WithMessage("*NaN*");
        model.Invoking(m => m.forward(rand(1, 28, 28))).Should().Throw<ArgumentException>().WithMessage("*N × C × H × W*");
    }

    [Fact]
    public void PretrainedBackboneWeights_LoadIntoTheModel_WithABackbonePrefix()
    {
        using var scope = NewDisposeScope();
        var pretrained = new SmallCnn();
        var model = new RetrievalModel(SmallCnn("linear", dimension: 8), seed: 6);
        var report = StateDict.Load(model, pretrained.state_dict(), KeyMapping.Identity.Rename("^", "backbone."), strict: false);
        report.Unexpected.Should().BeEmpty();
        report.Missing.Should().BeEquivalentTo("pool.p", "projection.linear.weight", "projection.linear.bias");
        WeightFixtures.Same(model.Backbone.state_dict()["features.0.conv.weight"], pretrained.state_dict()["features.0.conv.weight"]).Should().BeTrue();
        StateDict.Load(model.Backbone, pretrained.state_dict()).IsExact.Should().BeTrue();
    }

    private static string SaveSmallModel(WeightFixtures.TempDirectory dir)
    {
        string path = dir.File("small.safetensors");
        new RetrievalModel(SmallCnn("bnneck", dimension: 10), seed: 7).Save(path);
        return path;
    }
}
