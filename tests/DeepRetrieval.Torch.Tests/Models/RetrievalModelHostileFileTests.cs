using DeepRetrieval.Torch.Models;
using DeepRetrieval.Torch.Tests.Weights;
using DeepRetrieval.Torch.Weights;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Models;

/// <summary>
/// Issue 16, finding 5: a saved model's configuration is checked (bounds, registries, and the head against the file's tensors)
/// before the network is built. Each case names what the code before the fix did with the same file.
/// </summary>
public sealed class RetrievalModelHostileFileTests
{
    [Theory]
    // Before: the network was built first; 2^31 − 1 made libtorch try to allocate a 128 × 2^31 projection (1 TB) and throw
    // ExternalException. Now the bound (2^16) rejects the number itself.
    [InlineData("embedding_dimension", "10", "2147483647", "*embedding_dimension*2147483647*between 1 and 65536*")]
    // Before: 10^6 allocated a 512 MB projection (8 s here), then failed on the shape of the stored tensor.
    [InlineData("embedding_dimension", "10", "1000000", "*embedding_dimension*1000000*between 1 and 65536*")]
    // Before: built a 128 × 40000 projection (20 MB) and only then compared it with the stored [10, 128] tensor. Now the
    // head's largest tensor is looked for in the file before anything is built.
    [InlineData("embedding_dimension", "10", "40000", "*head 'bnneck' from 128 to 40000 dimensions needs a tensor of 5120000 elements*largest head tensor has 1280*")]
    // Before: gem(p=1e300) reached libtorch as a float32 fill value and threw ExternalException ("value cannot be converted
    // to type float without overflow"); 1e-300 became p = 0 in float32 and loaded a model whose x^(1/p) is infinite.
    [InlineData("pooling", "\"gem\"", "\"gem(p=1e300)\"", "*invalid model configuration*GeM exponent p must be positive and at most 1000*")]
    [InlineData("pooling", "\"gem\"", "\"gem(p=1e-300)\"", "*invalid model configuration*GeM exponent p*")]
    public void Load_RejectsHostileConfigurations_BeforeBuildingTheNetwork(string field, string oldValue, string newValue, string message)
    {
        using var scope = NewDisposeScope();
        using var dir = new WeightFixtures.TempDirectory();
        string path = SaveSmallModel(dir);
        RewriteConfig(path, c => Replace(c, $"\"{field}\":{oldValue}", $"\"{field}\":{newValue}"));
        var thrown = FluentActions.Invoking(() => RetrievalModel.Load(path)).Should().Throw<InvalidDataException>().WithMessage(message);
        thrown.And.Message.Should().Contain(path);
        thrown.And.Message.Length.Should().BeLessThan(2000, "a hostile value is not quoted whole");
    }

    [Fact]
    public void Load_RejectsAVersion1GemExponentOutsideItsRange()
    {
        // Before: a version-1 gem_p of 1e300 became gem(p=1E+300) and libtorch threw ExternalException building the layer.
        using var scope = NewDisposeScope();
        using var dir = new WeightFixtures.TempDirectory();
        string path = SaveSmallModel(dir);
        var content = SafeTensors.Load(path);
        var metadata = content.Metadata.ToDictionary();
        metadata["format_version"] = "1";
        metadata["config"] = """{"backbone":"small_cnn","input_channels":1,"pooling":"gem","gem_p":1e300,"gem_learnable":true,"normalize":true,"embedding_dimension":10,"head":"bnneck","input_size":28,"mean":[0.286],"std":[0.353]}""";
        SafeTensors.Save(path, content.Tensors, metadata);
        FluentActions.Invoking(() => RetrievalModel.Load(path)).Should().Throw<InvalidDataException>().WithMessage("*gem_p*1E+300*(0, 1000]*");
    }

    [Fact]
    public void Load_StillReadsTheValidModel()
    {
        using var scope = NewDisposeScope();
        using var dir = new WeightFixtures.TempDirectory();
        string path = SaveSmallModel(dir);
        using var model = RetrievalModel.Load(path);
        model.EmbeddingDimension.Should().Be(10);
        model.Config.Head.Should().Be("bnneck");
    }

    private static string Replace(string config, string pattern, string replacement)
    {
        config.Should().Contain(pattern);
        return config.Replace(pattern, replacement, StringComparison.Ordinal);
    }

    private static void RewriteConfig(string path, Func<string, string> edit)
    {
        var content = SafeTensors.Load(path);
        var metadata = content.Metadata.ToDictionary();
        metadata["config"] = edit(metadata["config"]);
        SafeTensors.Save(path, content.Tensors, metadata);
    }

    private static string SaveSmallModel(WeightFixtures.TempDirectory dir)
    {
        string path = dir.File("small.safetensors");
        using var model = new RetrievalModel(RetrievalModelConfig.For("small_cnn") with { Head = "bnneck", EmbeddingDimension = 10 }, seed: 7);
        model.Save(path);
        return path;
    }
}
