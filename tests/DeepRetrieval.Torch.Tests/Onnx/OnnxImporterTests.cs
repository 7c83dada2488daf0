using DeepRetrieval.Torch.Backbones;
using DeepRetrieval.Torch.Onnx;
using static TorchSharp.torch;
using ResNet = DeepRetrieval.Torch.Backbones.ResNet;

namespace DeepRetrieval.Torch.Tests.Onnx;

public sealed class OnnxImporterTests
{
    private sealed record NodeSpec(string OpType, string[] Inputs, string Output, Action<ProtoWriter>[] Attributes)
    {
        public string OpType { get; set; } = OpType;
    }

    /// <summary>Writes our ResNet as an ONNX graph (what torch.onnx.export would emit), optionally giving the stem convolution a bias.</summary>
    private static (List<NodeSpec> Nodes, Dictionary<string, (long[] Dims, float[] Values)> Weights) Export(ResNet net, float[]? stemBias = null)
    {
        var state = net.state_dict();
        var weights = new Dictionary<string, (long[], float[])>();
        var nodes = new List<NodeSpec>();
        var pad = net.Config.Padding;
        string Weight(string name, float[]? values = null)
        {
            weights[name] = (state[name].shape, values ?? state[name].data<float>().ToArray());
            return name;
        }
        string Conv(string x, string name, int stride, string? bias = null)
        {
            long kernel = state[name + ".weight"].shape[2];
            var (start, end) = stride == 1 ? (((int)kernel - 1) / 2, ((int)kernel - 1) / 2)
                : pad == ResNetPadding.Symmetric ? (((int)kernel - 1) / 2, ((int)kernel - 1) / 2) : (((int)kernel - stride + 1) / 2, ((int)kernel - stride) / 2);
            string[] inputs = bias is null ? [x, Weight(name + ".weight")] : [x, Weight(name + ".weight"), bias];
            nodes.Add(new NodeSpec("Conv", inputs, name, [ProtoWriter.IntsAttribute("kernel_shape", kernel, kernel), ProtoWriter.IntsAttribute("strides", stride, stride),
                ProtoWriter.IntsAttribute("pads", start, start, end, end), ProtoWriter.IntAttribute("group", net.Config.Groups > 1 && name.EndsWith("conv2", StringComparison.Ordinal) ? net.Config.Groups : 1)]));
            return name;
        }
        string Bn(string x, string name, float[]? meanShift = null)
        {
            float[] mean = state[name + ".running_mean"].data<float>().ToArray();
            if (meanShift is not null)
                mean = mean.Select((m, i) => m + meanShift[i]).ToArray();
            nodes.Add(new NodeSpec("BatchNormalization", [x, Weight(name + ".weight"), Weight(name + ".bias"), Weight(name + ".running_mean", mean), Weight(name + ".running_var")],
                name + ".out", [ProtoWriter.FloatAttribute("epsilon", 1e-5f)]));
            return name + ".out";
        }
        string Op(string opType, string[] inputs, string output, params Action<ProtoWriter>[] attributes)
        {
            nodes.Add(new NodeSpec(opType, inputs, output, attributes));
            return output;
        }
        if (stemBias is not null)
            weights["stem_bias"] = ([stemBias.Length], stemBias);
        string y = Op("Relu", [Bn(Conv("images", "conv1", 2, stemBias is null ? null : "stem_bias"), "bn1", stemBias)], "stem.relu");
        var (ps, pe) = pad == ResNetPadding.Symmetric ? (1, 1) : (1, 0);
        y = Op("MaxPool", [y], "stem.pool", ProtoWriter.IntsAttribute("kernel_shape", 3, 3), ProtoWriter.IntsAttribute("strides", 2, 2), ProtoWriter.IntsAttribute("pads", ps, ps, pe, pe));
        bool bottleneck = state.ContainsKey("layer1.0.conv3.weight");
        for (int layer = 1; layer <= 4; layer++)
        {
            for (int block = 0; state.ContainsKey($"layer{layer}.{block}.conv1.weight"); block++)
            {
                string p = $"layer{layer}.{block}";
                int stride = layer > 1 && block == 0 ? 2 : 1;
                string shortcut = state.ContainsKey($"{p}.downsample.0.weight") ? Bn(Conv(y, $"{p}.downsample.0", stride), $"{p}.downsample.1") : y;
                string m = Op("Relu", [Bn(Conv(y, $"{p}.conv1", bottleneck ? 1 : stride), $"{p}.bn1")], $"{p}.relu1");
                m = Bn(Conv(m, $"{p}.conv2", bottleneck ? stride : 1), $"{p}.bn2");
                if (bottleneck)
                    m = Bn(Conv(Op("Relu", [m], $"{p}.relu2"), $"{p}.conv3", 1), $"{p}.bn3");
                y = Op("Relu", [Op("Add", [m, shortcut], $"{p}.add")], $"{p}.out");
            }
        }
        Op("GlobalAveragePool", [y], "pooled");
        return (nodes, weights);
    }

    private static OnnxModel Encode(List<NodeSpec> nodes, Dictionary<string, (long[] Dims, float[] Values)> weights, int size) =>
        OnnxModel.Parse(ProtoWriter.Model(g =>
        {
            g.String(2, "exported");
            foreach (var n in nodes)
                g.Message(1, ProtoWriter.Node(n.OpType, n.Inputs, [n.Output], n.Attributes));
            foreach (var (name, (dims, values)) in weights)
                g.Message(5, ProtoWriter.FloatTensor(name, dims, values));
            g.Message(11, ProtoWriter.ValueInfo("images", 1, 3, size, size));
            g.Message(12, ProtoWriter.ValueInfo("pooled", 1, 512, 1, 1));
        }), "exported.onnx");

    private static void Randomise(ResNet net)
    {
        using var noGrad = no_grad();
        foreach (var (name, buffer) in net.named_buffers())
        {
            if (name.EndsWith("running_mean", StringComparison.Ordinal))
                buffer.copy_(randn_like(buffer) * 0.1);
            else if (name.EndsWith("running_var", StringComparison.Ordinal))
                buffer.copy_(rand_like(buffer) + 0.5);
        }
        foreach (var (name, p) in net.named_parameters().Where(p => p.name.Contains("bn", StringComparison.Ordinal) || p.name.Contains("downsample.1", StringComparison.Ordinal)))
            p.copy_(randn_like(p) * 0.2 + (name.EndsWith("weight", StringComparison.Ordinal) ? 1 : 0));
    }

    [Theory]
    [InlineData(false, 1, ResNetPadding.Symmetric)]
    [InlineData(true, 2, ResNetPadding.Symmetric)]
    [InlineData(false, 1, ResNetPadding.ExtraAtStart)]
    public void ImportResNet_RebuildsTheExportedNetworkExactly(bool bottleneck, int groups, ResNetPadding padding)
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        var config = new ResNetConfig
        {
            Block = bottleneck ? ResNetBlockFactory.Bottleneck : ResNetBlockFactory.Basic,
            Layers = bottleneck ? [1, 1, 1, 1] : [2, 1, 3, 1],
            Groups = groups,
            WidthPerGroup = bottleneck ? 32 : 64,
            Padding = padding,
        };
        var original = new ResNet(config);
        Randomise(original);
        original.eval();
        var (nodes, weights) = Export(original);
        var imported = OnnxImporter.ImportResNet(Encode(nodes, weights, 64));
        imported.Structure.Layers.Should().Equal(config.Layers);
        imported.Structure.Groups.Should().Be(groups);
        imported.Structure.WidthPerGroup.Should().Be(config.WidthPerGroup);
        imported.Structure.Padding.Should().Be(padding);
        imported.PooledOutputName.Should().Be("pooled");
        imported.Info.InputSize.Should().Be(64);
        var x = randn(2, 3, 64, 64);
        using var noGrad = no_grad();
        imported.Backbone.forward(x).allclose(original.forward(x), 1e-5, 1e-5).Should().BeTrue();
    }

    [Fact]
    public void ImportResNet_FoldsAConvolutionBiasIntoTheBatchNormMean()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var original = new ResNet(new ResNetConfig { Block = ResNetBlockFactory.Basic, Layers = [1, 1, 1, 1] });
        Randomise(original);
        original.eval();
        float[] bias = Enumerable.Range(0, 64).Select(i => i * 0.01f - 0.3f).ToArray();
        var (nodes, weights) = Export(original, bias);
        var imported = OnnxImporter.ImportResNet(Encode(nodes, weights, 32));
        var x = randn(1, 3, 32, 32);
        using var noGrad = no_grad();
        imported.Backbone.forward(x).allclose(original.forward(x), 1e-5, 1e-5).Should().BeTrue();
    }

    [Fact]
    public void ImportResNet_RejectsUnexpectedOperatorsAndPatterns_NamingTheNode()
    {
        using var scope = NewDisposeScope();
        var net = new ResNet(new ResNetConfig { Block = ResNetBlockFactory.Basic, Layers = [1, 1, 1, 1] });
        var (nodes, weights) = Export(net);

        nodes.Single(n => n.Output == "layer2.0.relu1").OpType = "Sigmoid";
        FluentActions.Invoking(() => OnnxImporter.ImportResNet(Encode(nodes, weights, 32)))
            .Should().Throw<InvalidDataException>().WithMessage("*exported.onnx*Sigmoid node 'layer2.0.relu1_node'*");
        nodes.Single(n => n.Output == "layer2.0.relu1").OpType = "Relu";

        var add = nodes.Single(n => n.Output == "layer3.0.add");
        nodes[nodes.IndexOf(add)] = add with { Inputs = [add.Inputs[0], "layer3.0.bn1.out"] };
        FluentActions.Invoking(() => OnnxImporter.ImportResNet(Encode(nodes, weights, 32)))
            .Should().Throw<InvalidDataException>().WithMessage("*exported.onnx*layer3.0*");
    }

    [Fact]
    public void ImportResNet_RejectsWeightShapesThatDoNotMatchTheStructure()
    {
        using var scope = NewDisposeScope();
        var net = new ResNet(new ResNetConfig { Block = ResNetBlockFactory.Basic, Layers = [1, 1, 1, 1] });
        var (nodes, weights) = Export(net);
        weights["layer1.0.bn2.running_var"] = ([32], new float[32]);
        FluentActions.Invoking(() => OnnxImporter.ImportResNet(Encode(nodes, weights, 32)))
            .Should().Throw<InvalidDataException>().WithMessage("*BatchNormalization node 'layer1.0.bn2.out_node'*running_var*[32]*64*");
    }
}
