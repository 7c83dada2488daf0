using System.Security.Cryptography;
using DeepRetrieval.Torch.Backbones;
using DeepRetrieval.Torch.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Weights;

public sealed class PretrainedWeightsTests : IDisposable
{
    private readonly WeightFixtures.TempDirectory _cache = new();
    private readonly byte[] _weights;
    private readonly string _sha256;

    public PretrainedWeightsTests()
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        using var source = new SmallCnn();
        using var temporary = new WeightFixtures.TempDirectory();
        string path = temporary.File("small_cnn.safetensors");
        SafeTensors.Save(path, source.state_dict());
        _weights = File.ReadAllBytes(path);
        _sha256 = Convert.ToHexStringLower(SHA256.HashData(_weights));
    }

    public void Dispose() => _cache.Dispose();

    private PretrainedOptions Options(FakeWeightsServer server, IProgress<long>? progress = null) =>
        new() { CacheDirectory = _cache.Root, HttpClient = server.Client(), Progress = progress };

    // A test backbone (a SmallCnn) whose registry entry carries weights served by the fake server.
    private PretrainedConfig RegisterTestEntry(string name, string? sha256Prefix = null)
    {
        var config = new PretrainedConfig($"https://weights.test/models/{name}-{_sha256[..8]}.safetensors", sha256Prefix ?? _sha256[..8]);
        BackboneRegistry.Register(new BackboneInfo(name, 128, 4, 28, [0.2860f], [0.3530f]) { Pretrained = config }, o => new SmallCnn(o.InputChannels == 3 ? 1 : o.InputChannels));
        return config;
    }

    private static void ShouldHoldTheServedWeights(nn.Module module, string servedFile)
    {
        var served = SafeTensors.Load(servedFile).Tensors;
        var state = module.state_dict();
        served.Keys.Should().BeEquivalentTo(state.Keys);
        foreach (var (key, value) in served)
            WeightFixtures.Same(state[key], value).Should().BeTrue(key);
    }

    [Fact]
    public void LoadInto_DownloadsVerifiesCachesAndLoads_WhenTheFileIsNotCached()
    {
        using var scope = NewDisposeScope();
        var entry = RegisterTestEntry("test_download");
        var server = new FakeWeightsServer(_weights);
        var reported = new List<long>();
        var net = new SmallCnn();

        var report = BackboneRegistry.LoadPretrained(net, "test_download", Options(server, new DeepRetrieval.Torch.Extraction.SynchronousProgress<long>(reported.Add)));

        report.IsExact.Should().BeTrue();
        server.Requests.Should().Be(1);
        server.RequestedUrls.Single().Should().Be(entry.Url);
        string cached = Path.Combine(_cache.Root, $"test_download-{_sha256[..8]}.safetensors");
        Directory.GetFiles(_cache.Root).Should().Equal(cached);
        File.ReadAllBytes(cached).Should().Equal(_weights);
        ShouldHoldTheServedWeights(net, cached);
        reported.Should().NotBeEmpty().And.BeInAscendingOrder();
        reported[^1].Should().Be(_weights.Length);
    }

    [Fact]
    public void LoadInto_ReusesTheCachedFile_WithoutCallingTheServer()
    {
        using var scope = NewDisposeScope();
        RegisterTestEntry("test_reuse");
        var server = new FakeWeightsServer(_weights);
        BackboneRegistry.LoadPretrained(new SmallCnn(), "test_reuse", Options(server));
        server.Mode = FakeWeightsServer.Failure.Unreachable;

        var net = new SmallCnn();
        BackboneRegistry.LoadPretrained(net, "test_reuse", Options(server)).IsExact.Should().BeTrue();

        server.Requests.Should().Be(1);
        ShouldHoldTheServedWeights(net, Directory.GetFiles(_cache.Root).Single());
    }

    [Fact]
    public void CreatePretrained_UsesAFilePlacedInTheCacheByHand_Offline_InOneCall()
    {
        using var scope = NewDisposeScope();
        var entry = RegisterTestEntry("test_by_hand");
        string path = PretrainedWeights.CachePath(entry, new PretrainedOptions { CacheDirectory = _cache.Root });
        File.WriteAllBytes(path, _weights);
        var server = new FakeWeightsServer(_weights) { Mode = FakeWeightsServer.Failure.Unreachable };

        using var net = BackboneRegistry.Create("test_by_hand", pretrained: true, weights: Options(server));

        net.Should().BeOfType<SmallCnn>();
        server.Requests.Should().Be(0);
        ShouldHoldTheServedWeights(net, path);
    }

    [Fact]
    public void LoadInto_UsesTheGivenFilePath_WithoutCacheOrNetwork()
    {
        using var scope = NewDisposeScope();
        string path = Path.Combine(_cache.Root, "elsewhere.safetensors");
        File.WriteAllBytes(path, _weights);
        var server = new FakeWeightsServer(_weights) { Mode = FakeWeightsServer.Failure.Unreachable };
        var options = new PretrainedOptions { CacheDirectory = Path.Combine(_cache.Root, "cache"), HttpClient = server.Client(), FilePath = path };

        // small_cnn has no registered weights; a given file loads with the classifier-dropping mapping.
        BackboneRegistry.Describe("small_cnn").Pretrained.Should().BeNull();
        using var net = BackboneRegistry.Create("small_cnn", pretrained: true, weights: options);

        server.Requests.Should().Be(0);
        Directory.Exists(options.CacheDirectory).Should().BeFalse();
        ShouldHoldTheServedWeights(net, path);
        FluentActions.Invoking(() => BackboneRegistry.LoadPretrained(new SmallCnn(), "small_cnn", new PretrainedOptions { FilePath = Path.Combine(_cache.Root, "missing.pth") }))
            .Should().Throw<FileNotFoundException>().WithMessage("*missing.pth*");
    }

    [Fact]
    public void Download_WithTheWrongHash_ThrowsNamingUrlAndBothHashes_AndCachesNothing()
    {
        using var scope = NewDisposeScope();
        var entry = RegisterTestEntry("test_bad_hash", sha256Prefix: "00000000");
        var server = new FakeWeightsServer(_weights);
        var net = new SmallCnn();
        var before = net.state_dict()["features.0.conv.weight"].clone();

        FluentActions.Invoking(() => BackboneRegistry.LoadPretrained(net, "test_bad_hash", Options(server)))
            .Should().Throw<InvalidDataException>()
            .WithMessage($"*{entry.Url}*{_sha256}*00000000*not cached*");

        Directory.GetFileSystemEntries(_cache.Root).Should().BeEmpty();
        WeightFixtures.Same(net.state_dict()["features.0.conv.weight"], before).Should().BeTrue();
    }

    [Fact]
    public void Download_BrokenOffMidway_LeavesNoFile_AndTheNextAttemptSucceeds()
    {
        using var scope = NewDisposeScope();
        var entry = RegisterTestEntry("test_partial");
        var server = new FakeWeightsServer(_weights) { Mode = FakeWeightsServer.Failure.BreaksMidway };

        FluentActions.Invoking(() => PretrainedWeights.ResolveFile(entry, Options(server)))
            .Should().Throw<IOException>().WithMessage($"*{entry.Url}*nothing was cached*");
        Directory.GetFileSystemEntries(_cache.Root).Should().BeEmpty();

        server.Mode = FakeWeightsServer.Failure.None;
        string path = PretrainedWeights.ResolveFile(entry, Options(server));
        File.ReadAllBytes(path).Should().Equal(_weights);
        Directory.GetFileSystemEntries(_cache.Root).Should().Equal(path);
    }

    [Fact]
    public void Download_WithoutNetwork_ThrowsNamingTheUrlAndTheCachePathToFill()
    {
        var entry = RegisterTestEntry("test_offline");
        var server = new FakeWeightsServer(_weights) { Mode = FakeWeightsServer.Failure.Unreachable };
        string expectedPath = PretrainedWeights.CachePath(entry, new PretrainedOptions { CacheDirectory = _cache.Root });

        FluentActions.Invoking(() => BackboneRegistry.Create("test_offline", pretrained: true, weights: Options(server)))
            .Should().Throw<HttpRequestException>()
            .WithMessage($"*{entry.Url}*Name or service not known*{expectedPath}*");
        Directory.GetFileSystemEntries(_cache.Root).Should().BeEmpty();
    }

    [Fact]
    public void Download_HttpError_ThrowsWithTheStatusAndUrl()
    {
        var entry = RegisterTestEntry("test_not_found");
        var server = new FakeWeightsServer(_weights) { Mode = FakeWeightsServer.Failure.NotFound };

        FluentActions.Invoking(() => PretrainedWeights.ResolveFile(entry, Options(server)))
            .Should().Throw<HttpRequestException>()
            .WithMessage($"*{entry.Url}*404*")
            .Which.StatusCode.Should().Be(System.Net.HttpStatusCode.NotFound);
        Directory.GetFileSystemEntries(_cache.Root).Should().BeEmpty();
    }

    [Fact]
    public async Task ResolveFileAsync_Cancelled_ThrowsAndCachesNothing()
    {
        var entry = RegisterTestEntry("test_cancelled");
        var server = new FakeWeightsServer(_weights);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await FluentActions.Awaiting(() => PretrainedWeights.ResolveFileAsync(entry, Options(server), cancelled.Token))
            .Should().ThrowAsync<OperationCanceledException>();
        Directory.GetFileSystemEntries(_cache.Root).Should().BeEmpty();

        string path = await PretrainedWeights.ResolveFileAsync(BackboneRegistry.Describe("test_cancelled").Pretrained!, Options(server));
        File.ReadAllBytes(path).Should().Equal(_weights);
    }

    [Fact]
    public void CreatePretrained_DownloadsThenBuildsTheRegistryBackboneWithItsWeights_InOneCall()
    {
        using var scope = NewDisposeScope();
        RegisterTestEntry("test_create");
        var server = new FakeWeightsServer(_weights);

        using var backbone = BackboneRegistry.Create("test_create", pretrained: true, new BackboneOptions { InputChannels = 1 }, Options(server));

        backbone.Should().BeOfType<SmallCnn>();
        server.Requests.Should().Be(1);
        ShouldHoldTheServedWeights(backbone, Directory.GetFiles(_cache.Root).Single());
        using var random = BackboneRegistry.Create("test_create", pretrained: false);
        WeightFixtures.Same(random.state_dict()["features.0.conv.weight"], backbone.state_dict()["features.0.conv.weight"]).Should().BeFalse("pretrained: false builds random weights");
    }

    [Fact]
    public void PretrainedDataConfig_OverridesTheArchitecturesNormalisation_InTheEntry()
    {
        RegisterTestEntry("test_data_config");
        BackboneRegistry.Describe("test_data_config").Mean.Should().Equal(0.2860f);
        var weights = new PretrainedConfig("https://weights.test/models/other.safetensors") { Mean = [0.5f], Std = [0.25f], InputSize = 32, Tag = "other" };

        var info = BackboneRegistry.RegisterPretrained("test_data_config", weights);

        info.Pretrained.Should().BeSameAs(weights);
        info.Mean.Should().Equal(0.5f);
        info.Std.Should().Equal(0.25f);
        info.InputSize.Should().Be(32);
        var config = DeepRetrieval.Torch.Models.RetrievalModelConfig.For("test_data_config");
        config.Mean.Should().Equal(0.5f);
        config.InputSize.Should().Be(32);
        FluentActions.Invoking(() => BackboneRegistry.RegisterPretrained("test_data_config", weights with { Mean = [0.5f, 0.5f, 0.5f] }))
            .Should().Throw<ArgumentException>().WithMessage("*one value per input channel (1)*");
    }

    [Fact]
    public void CreatePretrained_WithoutRegisteredWeightsOrAFile_ThrowsListingTheBackbonesThatHaveSome()
    {
        FluentActions.Invoking(() => BackboneRegistry.Create("small_cnn", pretrained: true, weights: new PretrainedOptions { CacheDirectory = _cache.Root }))
            .Should().Throw<ArgumentException>().WithMessage("*No pretrained weights*'small_cnn'*resnet50*RegisterPretrained*FilePath*");
        Directory.GetFileSystemEntries(_cache.Root).Should().BeEmpty();
    }

    [Fact]
    public void LoadInto_FileOfAnotherArchitecture_ThrowsAndNamesTheMismatch()
    {
        using var scope = NewDisposeScope();
        RegisterTestEntry("test_wrong_architecture");
        var server = new FakeWeightsServer(_weights);
        var narrow = new SmallCnn(widths: [8, 8, 8, 8, 8]);

        FluentActions.Invoking(() => BackboneRegistry.LoadPretrained(narrow, "test_wrong_architecture", Options(server)))
            .Should().Throw<InvalidDataException>().WithMessage("*features.0.conv.weight*");
    }

    [Fact]
    public void UnknownName_ThrowsListingTheKnownNames()
    {
        FluentActions.Invoking(() => BackboneRegistry.Create("resnet9000", pretrained: true, weights: new PretrainedOptions { CacheDirectory = _cache.Root }))
            .Should().Throw<ArgumentException>().WithMessage("*'resnet9000'*resnet50*vit_small_patch16_224*");
        FluentActions.Invoking(() => BackboneRegistry.LoadPretrained(new SmallCnn(), "resnet9000", new PretrainedOptions { CacheDirectory = _cache.Root }))
            .Should().Throw<ArgumentException>().WithMessage("*'resnet9000'*");
    }

    [Fact]
    public void BuiltInEntries_AreRegisteredBackbones_WithTorchVisionHashesFromTheirFileNames()
    {
        string[] torchVision =
        [
            "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d",
            "wide_resnet50_2", "wide_resnet101_2", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
            "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large",
        ];
        string[] timm =
        [
            "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3", "densenet121", "vit_tiny_patch16_224",
            "vit_small_patch16_224", "vit_base_patch16_224", "swin_tiny_patch4_window7_224", "seresnet50", "resnest50d",
        ];
        BackboneRegistry.Names.Where(n => !n.StartsWith("test_", StringComparison.Ordinal) && BackboneRegistry.Describe(n).Pretrained is not null)
            .Should().BeEquivalentTo(torchVision.Concat(timm));
        foreach (string name in torchVision)
        {
            var entry = BackboneRegistry.Describe(name).Pretrained!;
            entry.Tag.Should().Be("IMAGENET1K_V1");
            entry.Url.Host.Should().Be("download.pytorch.org");
            entry.FileName.Should().Be($"{name}-{entry.Sha256Prefix}.pth");
            entry.Url.AbsolutePath.Should().Be($"/models/{entry.FileName}");
            entry.Sha256Prefix.Should().MatchRegex("^[0-9a-f]{8}$");
        }
        foreach (string name in timm)
        {
            var entry = BackboneRegistry.Describe(name).Pretrained!;
            entry.Tag.Should().MatchRegex("^[a-z0-9_]+$");
            entry.Url.ToString().Should().MatchRegex($"^https://huggingface.co/timm/{name}\\.[a-z0-9_]+/resolve/main/model.safetensors$");
            entry.FileName.Should().MatchRegex($"^{name}\\.[a-z0-9_]+\\.safetensors$");
            entry.Sha256Prefix.Should().BeNull();
        }
    }

    [Fact]
    public void BuiltInEntries_DropOnlyTheClassifier()
    {
        static KeyMapping Mapping(string name) => BackboneRegistry.Describe(name).Pretrained!.Mapping;
        Mapping("resnet50").Map("fc.weight").Should().BeNull();
        Mapping("resnet50").Map("layer1.0.conv1.weight").Should().Be("layer1.0.conv1.weight");
        Mapping("seresnet50").Map("fc.bias").Should().BeNull();
        Mapping("seresnet50").Map("layer1.0.se.fc1.weight").Should().Be("layer1.0.se.fc1.weight");
        Mapping("vit_small_patch16_224").Map("head.weight").Should().BeNull();
        Mapping("efficientnet_b0").Map("classifier.weight").Should().BeNull();
        Mapping("efficientnet_b0").Map("conv_head.weight").Should().Be("conv_head.weight");
    }

    [Fact]
    public void PretrainedConfig_RejectsBadUrlsAndHashPrefixes()
    {
        FluentActions.Invoking(() => new PretrainedConfig("models/resnet.pth")).Should().Throw<ArgumentException>().WithMessage("*absolute http*");
        FluentActions.Invoking(() => new PretrainedConfig("ftp://host/resnet.pth")).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new PretrainedConfig("https://host/")).Should().Throw<ArgumentException>().WithMessage("*does not name a file*");
        FluentActions.Invoking(() => new PretrainedConfig("https://host/a.pth", "abc")).Should().Throw<ArgumentException>().WithMessage("*'abc'*hex*");
        FluentActions.Invoking(() => new PretrainedConfig("https://host/a.pth", "zzzzzzzz")).Should().Throw<ArgumentException>();
        new PretrainedConfig("https://huggingface.co/timm/resnet50.a1_in1k/resolve/main/model.safetensors").FileName.Should().Be("resnet50.a1_in1k.safetensors");
        new PretrainedConfig("https://host/x/a.pth", "ABCDEF12").Sha256Prefix.Should().Be("abcdef12");
    }

    [Fact]
    public void DefaultCacheDirectory_FollowsTheEnvironmentVariable_ElseTheUserCache()
    {
        string? saved = Environment.GetEnvironmentVariable(PretrainedWeights.CacheEnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(PretrainedWeights.CacheEnvironmentVariable, _cache.Root);
            PretrainedWeights.DefaultCacheDirectory.Should().Be(_cache.Root);
            PretrainedWeights.CachePath(BackboneRegistry.Describe("resnet18").Pretrained!).Should().Be(Path.Combine(_cache.Root, "resnet18-f37072fd.pth"));
            Environment.SetEnvironmentVariable(PretrainedWeights.CacheEnvironmentVariable, null);
            PretrainedWeights.DefaultCacheDirectory.Should().Be(
                Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "deepretrieval", "weights"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(PretrainedWeights.CacheEnvironmentVariable, saved);
        }
    }
}
