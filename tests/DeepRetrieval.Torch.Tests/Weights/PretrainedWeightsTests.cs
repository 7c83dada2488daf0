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

    private PretrainedWeightsEntry RegisterTestEntry(string name, string? sha256Prefix = null) =>
        PretrainedWeights.Register(name, $"https://weights.test/models/{name}-{_sha256[..8]}.safetensors", sha256Prefix ?? _sha256[..8]);

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

        var report = PretrainedWeights.LoadInto(net, "test_download", Options(server, new DeepRetrieval.Torch.Extraction.SynchronousProgress<long>(reported.Add)));

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
        PretrainedWeights.LoadInto(new SmallCnn(), "test_reuse", Options(server));
        server.Mode = FakeWeightsServer.Failure.Unreachable;

        var net = new SmallCnn();
        PretrainedWeights.LoadInto(net, "test_reuse", Options(server)).IsExact.Should().BeTrue();

        server.Requests.Should().Be(1);
        ShouldHoldTheServedWeights(net, Directory.GetFiles(_cache.Root).Single());
    }

    [Fact]
    public void LoadInto_UsesAFilePlacedInTheCacheByHand_Offline()
    {
        using var scope = NewDisposeScope();
        var entry = RegisterTestEntry("test_by_hand");
        string path = PretrainedWeights.CachePath(entry, new PretrainedOptions { CacheDirectory = _cache.Root });
        File.WriteAllBytes(path, _weights);
        var server = new FakeWeightsServer(_weights) { Mode = FakeWeightsServer.Failure.Unreachable };

        var net = new SmallCnn();
        PretrainedWeights.LoadInto(net, "test_by_hand", Options(server)).IsExact.Should().BeTrue();

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

        var net = new SmallCnn();
        PretrainedWeights.LoadInto(net, "small_cnn", options).IsExact.Should().BeTrue();

        server.Requests.Should().Be(0);
        Directory.Exists(options.CacheDirectory).Should().BeFalse();
        ShouldHoldTheServedWeights(net, path);
        FluentActions.Invoking(() => PretrainedWeights.LoadInto(new SmallCnn(), "small_cnn", new PretrainedOptions { FilePath = Path.Combine(_cache.Root, "missing.pth") }))
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

        FluentActions.Invoking(() => PretrainedWeights.LoadInto(net, "test_bad_hash", Options(server)))
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

        FluentActions.Invoking(() => PretrainedWeights.ResolveFile("test_partial", Options(server)))
            .Should().Throw<IOException>().WithMessage($"*{entry.Url}*nothing was cached*");
        Directory.GetFileSystemEntries(_cache.Root).Should().BeEmpty();

        server.Mode = FakeWeightsServer.Failure.None;
        string path = PretrainedWeights.ResolveFile("test_partial", Options(server));
        File.ReadAllBytes(path).Should().Equal(_weights);
        Directory.GetFileSystemEntries(_cache.Root).Should().Equal(path);
    }

    [Fact]
    public void Download_WithoutNetwork_ThrowsNamingTheUrlAndTheCachePathToFill()
    {
        var entry = RegisterTestEntry("test_offline");
        var server = new FakeWeightsServer(_weights) { Mode = FakeWeightsServer.Failure.Unreachable };
        string expectedPath = PretrainedWeights.CachePath(entry, new PretrainedOptions { CacheDirectory = _cache.Root });

        FluentActions.Invoking(() => PretrainedWeights.ResolveFile("test_offline", Options(server)))
            .Should().Throw<HttpRequestException>()
            .WithMessage($"*{entry.Url}*Name or service not known*{expectedPath}*");
        Directory.GetFileSystemEntries(_cache.Root).Should().BeEmpty();
    }

    [Fact]
    public void Download_HttpError_ThrowsWithTheStatusAndUrl()
    {
        var entry = RegisterTestEntry("test_not_found");
        var server = new FakeWeightsServer(_weights) { Mode = FakeWeightsServer.Failure.NotFound };

        FluentActions.Invoking(() => PretrainedWeights.ResolveFile("test_not_found", Options(server)))
            .Should().Throw<HttpRequestException>()
            .WithMessage($"*{entry.Url}*404*")
            .Which.StatusCode.Should().Be(System.Net.HttpStatusCode.NotFound);
        Directory.GetFileSystemEntries(_cache.Root).Should().BeEmpty();
    }

    [Fact]
    public async Task ResolveFileAsync_Cancelled_ThrowsAndCachesNothing()
    {
        RegisterTestEntry("test_cancelled");
        var server = new FakeWeightsServer(_weights);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await FluentActions.Awaiting(() => PretrainedWeights.ResolveFileAsync("test_cancelled", Options(server), cancelled.Token))
            .Should().ThrowAsync<OperationCanceledException>();
        Directory.GetFileSystemEntries(_cache.Root).Should().BeEmpty();

        string path = await PretrainedWeights.ResolveFileAsync("test_cancelled", Options(server));
        File.ReadAllBytes(path).Should().Equal(_weights);
    }

    [Fact]
    public void CreatePretrained_BuildsTheRegistryBackboneAndLoadsItsWeights()
    {
        using var scope = NewDisposeScope();
        PretrainedWeights.Register("small_cnn", $"https://weights.test/models/small_cnn-{_sha256[..12]}.safetensors", _sha256[..12]);
        var server = new FakeWeightsServer(_weights);
        var options = new PretrainedOptions { CacheDirectory = _cache.Root, HttpClient = server.Client(), BackboneOptions = new BackboneOptions { InputChannels = 1 } };

        using var backbone = PretrainedWeights.CreatePretrained("small_cnn", options);

        backbone.Should().BeOfType<SmallCnn>();
        ShouldHoldTheServedWeights(backbone, Directory.GetFiles(_cache.Root).Single());
    }

    [Fact]
    public void LoadInto_FileOfAnotherArchitecture_ThrowsAndNamesTheMismatch()
    {
        using var scope = NewDisposeScope();
        RegisterTestEntry("test_wrong_architecture");
        var server = new FakeWeightsServer(_weights);
        var narrow = new SmallCnn(widths: [8, 8, 8, 8, 8]);

        FluentActions.Invoking(() => PretrainedWeights.LoadInto(narrow, "test_wrong_architecture", Options(server)))
            .Should().Throw<InvalidDataException>().WithMessage("*features.0.conv.weight*");
    }

    [Fact]
    public void UnknownName_ThrowsListingTheKnownNames()
    {
        FluentActions.Invoking(() => PretrainedWeights.Find("resnet9000"))
            .Should().Throw<ArgumentException>().WithMessage("*'resnet9000'*resnet50*vit_small_patch16_224*");
        FluentActions.Invoking(() => PretrainedWeights.LoadInto(new SmallCnn(), "resnet9000", new PretrainedOptions { CacheDirectory = _cache.Root }))
            .Should().Throw<ArgumentException>().WithMessage("*'resnet9000'*");
        FluentActions.Invoking(() => PretrainedWeights.CreatePretrained("resnet9000", new PretrainedOptions { CacheDirectory = _cache.Root }))
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
        PretrainedWeights.Names.Where(n => !n.StartsWith("test_", StringComparison.Ordinal) && n != "small_cnn")
            .Should().BeEquivalentTo(torchVision.Concat(timm));
        foreach (string name in torchVision.Concat(timm))
            BackboneRegistry.Contains(name).Should().BeTrue(name);
        foreach (string name in torchVision)
        {
            var entry = PretrainedWeights.Find(name);
            entry.Url.Host.Should().Be("download.pytorch.org");
            entry.FileName.Should().Be($"{name}-{entry.Sha256Prefix}.pth");
            entry.Url.AbsolutePath.Should().Be($"/models/{entry.FileName}");
            entry.Sha256Prefix.Should().MatchRegex("^[0-9a-f]{8}$");
        }
        foreach (string name in timm)
        {
            var entry = PretrainedWeights.Find(name);
            entry.Url.ToString().Should().MatchRegex($"^https://huggingface.co/timm/{name}\\.[a-z0-9_]+/resolve/main/model.safetensors$");
            entry.FileName.Should().MatchRegex($"^{name}\\.[a-z0-9_]+\\.safetensors$");
            entry.Sha256Prefix.Should().BeNull();
        }
    }

    [Fact]
    public void BuiltInEntries_DropOnlyTheClassifier()
    {
        PretrainedWeights.Find("resnet50").Mapping.Map("fc.weight").Should().BeNull();
        PretrainedWeights.Find("resnet50").Mapping.Map("layer1.0.conv1.weight").Should().Be("layer1.0.conv1.weight");
        PretrainedWeights.Find("seresnet50").Mapping.Map("fc.bias").Should().BeNull();
        PretrainedWeights.Find("seresnet50").Mapping.Map("layer1.0.se.fc1.weight").Should().Be("layer1.0.se.fc1.weight");
        PretrainedWeights.Find("vit_small_patch16_224").Mapping.Map("head.weight").Should().BeNull();
        PretrainedWeights.Find("efficientnet_b0").Mapping.Map("classifier.weight").Should().BeNull();
        PretrainedWeights.Find("efficientnet_b0").Mapping.Map("conv_head.weight").Should().Be("conv_head.weight");
    }

    [Fact]
    public void Register_RejectsBadUrlsAndHashPrefixes()
    {
        FluentActions.Invoking(() => PretrainedWeights.Register("test_bad", "models/resnet.pth", null)).Should().Throw<ArgumentException>().WithMessage("*absolute http*");
        FluentActions.Invoking(() => PretrainedWeights.Register("test_bad", "ftp://host/resnet.pth", null)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => PretrainedWeights.Register("test_bad", "https://host/", null)).Should().Throw<ArgumentException>().WithMessage("*does not name a file*");
        FluentActions.Invoking(() => PretrainedWeights.Register("test_bad", "https://host/a.pth", "abc")).Should().Throw<ArgumentException>().WithMessage("*'abc'*hex*");
        FluentActions.Invoking(() => PretrainedWeights.Register("test_bad", "https://host/a.pth", "zzzzzzzz")).Should().Throw<ArgumentException>();
        PretrainedWeights.Contains("test_bad").Should().BeFalse();
    }

    [Fact]
    public void DefaultCacheDirectory_FollowsTheEnvironmentVariable_ElseTheUserCache()
    {
        string? saved = Environment.GetEnvironmentVariable(PretrainedWeights.CacheEnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(PretrainedWeights.CacheEnvironmentVariable, _cache.Root);
            PretrainedWeights.DefaultCacheDirectory.Should().Be(_cache.Root);
            PretrainedWeights.CachePath(PretrainedWeights.Find("resnet18")).Should().Be(Path.Combine(_cache.Root, "resnet18-f37072fd.pth"));
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
