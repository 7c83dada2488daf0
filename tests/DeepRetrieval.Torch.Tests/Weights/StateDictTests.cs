using DeepRetrieval.Torch.Backbones;
using DeepRetrieval.Torch.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Weights;

public sealed class StateDictTests
{
    [Fact]
    public void Load_CopiesIntoTheExistingParameters_KeepingIdentityAndRequiresGrad()
    {
        using var scope = NewDisposeScope();
        var net = new TinyNet();
        var weight = net.Conv.weight!;
        var tensors = SafeTensors.Load(WeightFixtures.Path("tiny.safetensors")).Tensors;
        var report = StateDict.Load(net, tensors);
        report.IsExact.Should().BeTrue();
        report.Loaded.Should().HaveCount(9);
        ReferenceEquals(net.Conv.weight, weight).Should().BeTrue();
        weight.requires_grad.Should().BeTrue();
        WeightFixtures.Same(weight, tensors["conv.weight"]).Should().BeTrue();
        ReferenceEquals(weight, tensors["conv.weight"]).Should().BeFalse();
    }

    [Fact]
    public void Load_Float16Checkpoint_ConvertsIntoAFloat32Module()
    {
        using var scope = NewDisposeScope();
        var net = new TinyNet();
        StateDict.LoadFile(net, WeightFixtures.Path("tiny_half.pt")).IsExact.Should().BeTrue();
        var full = SafeTensors.Load(WeightFixtures.Path("tiny.safetensors")).Tensors;
        net.Conv.weight!.dtype.Should().Be(ScalarType.Float32);
        WeightFixtures.Same(net.Conv.weight!, full["conv.weight"].to(ScalarType.Float16).to(ScalarType.Float32)).Should().BeTrue();
        WeightFixtures.Same(net.Conv.weight!, full["conv.weight"]).Should().BeFalse("float16 rounding must show");
    }

    [Fact]
    public void NonStrict_LoadsWhatMatches_AndReportsMissingUnexpectedAndBothShapes()
    {
        using var scope = NewDisposeScope();
        var net = new TinyNet(fcOutputs: 5);
        var fcBefore = net.state_dict()["fc.weight"].clone();
        var tensors = new Dictionary<string, Tensor>(SafeTensors.Load(WeightFixtures.Path("tiny.safetensors")).Tensors);
        tensors.Remove("bn.running_var");
        tensors.Remove("bn.num_batches_tracked");
        tensors["extra.weight"] = ones(1);
        var report = StateDict.Load(net, tensors, strict: false);
        report.Missing.Should().Equal("bn.running_var");
        report.Unexpected.Should().Equal("extra.weight");
        report.ShapeMismatched.Should().HaveCount(2);
        report.ShapeMismatched[0].Key.Should().Be("fc.weight");
        report.ShapeMismatched[0].ExpectedShape.Should().Equal(5L, 4L);
        report.ShapeMismatched[0].CheckpointShape.Should().Equal(2L, 4L);
        report.ToString().Should().Contain("fc.weight: module [5, 4], checkpoint [2, 4]");
        report.IsExact.Should().BeFalse();
        WeightFixtures.Same(net.Conv.weight!, tensors["conv.weight"]).Should().BeTrue();
        WeightFixtures.Same(net.state_dict()["fc.weight"], fcBefore).Should().BeTrue();
    }

    [Fact]
    public void Strict_ThrowsWithTheReport_AndCopiesNothing()
    {
        using var scope = NewDisposeScope();
        var net = new TinyNet(fcOutputs: 5);
        var convBefore = net.Conv.weight!.clone();
        var tensors = SafeTensors.Load(WeightFixtures.Path("tiny.safetensors")).Tensors;
        var error = FluentActions.Invoking(() => StateDict.Load(net, tensors, source: "tiny.safetensors")).Should().Throw<InvalidDataException>()
            .WithMessage("tiny.safetensors does not match the module*fc.weight: module [5, 4], checkpoint [2, 4]*").Which;
        error.Data[StateDict.ReportDataKey].Should().BeOfType<StateDictLoadReport>().Which.ShapeMismatched.Should().HaveCount(2);
        WeightFixtures.Same(net.Conv.weight!, convBefore).Should().BeTrue();
    }

    [Fact]
    public void LoadFile_NestedDataParallelCheckpoint_LoadsWithThePrefixStripped_AndDropsTheClassifier()
    {
        using var scope = NewDisposeScope();
        var net = new TinyNet();
        FluentActions.Invoking(() => StateDict.LoadFile(net, WeightFixtures.Path("nested.pt"))).Should().Throw<InvalidDataException>().WithMessage("*nested.pt*module.conv.weight*");
        var report = StateDict.LoadFile(net, WeightFixtures.Path("nested.pt"), KeyMapping.DropClassifier, strict: false);
        report.Dropped.Should().Equal("module.fc.weight", "module.fc.bias");
        report.Missing.Should().Equal("fc.weight", "fc.bias");
        report.Unexpected.Should().BeEmpty();
        report.Loaded.Should().HaveCount(7);
    }

    [Fact]
    public void KeyMapping_StripsRepeatedPrefixes_RenamesInOrder_ThenDrops()
    {
        var mapping = KeyMapping.Identity.StripPrefixes("module.", "model.").Rename(@"^backbone\.", "").Rename(@"\.gamma$", ".weight").Drop("head.").DropMatching("num_batches_tracked$");
        mapping.Map("module.model.backbone.layer1.gamma").Should().Be("layer1.weight");
        mapping.Map("model.head.weight").Should().BeNull();
        mapping.Map("bn.num_batches_tracked").Should().BeNull();
        mapping.Map("modules.x").Should().Be("modules.x");
        KeyMapping.Identity.Map("module.x").Should().Be("module.x");
        KeyMapping.DropClassifier.Map("module.fc.weight").Should().BeNull();
        KeyMapping.DropClassifier.Map("classifier.1.weight").Should().BeNull();
        KeyMapping.DropClassifier.Map("features.0.weight").Should().Be("features.0.weight");
        KeyMapping.DropClassifier.Map("head.weight").Should().BeNull();
        KeyMapping.DropClassifier.Map("heads.head.weight").Should().Be("heads.head.weight", "only the classifiers of registered families are dropped");
        FluentActions.Invoking(() => KeyMapping.Identity.Rename("(", "")).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void SmallCnnPreset_LoadsTheReferenceScriptsNames()
    {
        using var scope = NewDisposeScope();
        var source = new SmallCnn();
        var tensors = source.state_dict().ToDictionary(kv => "f." + kv.Key["features.".Length..], kv => kv.Value.clone());
        tensors["emb.weight"] = ones(64, 128);
        var target = new SmallCnn();
        var report = StateDict.Load(target, tensors, KeyMapping.SmallCnnReference);
        report.Dropped.Should().Equal("emb.weight");
        WeightFixtures.Same(target.state_dict()["features.6.conv.weight"], source.state_dict()["features.6.conv.weight"]).Should().BeTrue();
    }
}
