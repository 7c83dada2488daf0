using DeepRetrieval.Torch.Backbones;

namespace DeepRetrieval.Torch.Onnx;

/// <summary>A weight found in the graph, with the node it came from (for messages).</summary>
internal sealed record ImportedWeight(OnnxNode Node, long[] Shape, float[] Values);

/// <summary>What <see cref="ResNetGraphWalker"/> recognised.</summary>
internal sealed class ResNetStructure
{
    public bool Bottleneck { get; set; }
    public int[] Layers { get; } = new int[4];
    public int Groups { get; set; } = 1;
    public int WidthPerGroup { get; set; } = 64;
    public ResNetPadding Padding { get; set; }
    public int InputChannels { get; set; }
    public int InputSize { get; set; } = 224;
    public string InputName { get; set; } = "";
    public string FeatureMapName { get; set; } = "";
    public string? PooledOutputName { get; set; }
    public Dictionary<string, ImportedWeight> Weights { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, double> Epsilons { get; } = new(StringComparer.Ordinal);
}

/// <summary>Walks a ResNet graph from its input and records its structure and weights under our <see cref="ResNet"/>'s names.</summary>
internal sealed class ResNetGraphWalker
{
    // The largest channel count, kernel, stride, pad or image side accepted from a file; real ResNets stay below 4096.
    private const int MaxSize = 1 << 16;

    private readonly OnnxModel _model;
    private readonly OnnxGraph _graph;
    private readonly Dictionary<string, List<OnnxNode>> _consumers = new(StringComparer.Ordinal);
    private readonly ResNetStructure _structure = new();
    private bool? _bottleneck;
    private int _stage = -1;
    private int _blockInStage;

    public ResNetGraphWalker(OnnxModel model)
    {
        _model = model;
        _graph = model.Graph;
        foreach (var node in _graph.Nodes)
        {
            if (node.Domain is not ("" or "ai.onnx"))
                throw Error(node, $"is in operator domain '{node.Domain}'; only the default ONNX domain is supported");
            foreach (var input in node.Inputs.Where(i => i.Length > 0 && !_graph.Initializers.ContainsKey(i)))
            {
                if (!_consumers.TryGetValue(input, out var list))
                    _consumers[input] = list = [];
                list.Add(node);
            }
        }
    }

    public ResNetStructure Walk()
    {
        var inputs = _graph.DataInputs.ToList();
        if (inputs.Count != 1)
            throw new InvalidDataException($"ONNX file '{_model.Source}': a ResNet graph has one image input, this one has {inputs.Count} ({string.Join(", ", inputs.Select(i => i.Name))}).");
        var input = inputs[0];
        _structure.InputName = input.Name;
        if (input.Shape is { Count: 4 } shape && shape[2] is long h && h == shape[3])
        {
            if (h is < 1 or > MaxSize)
                throw new InvalidDataException($"ONNX file '{_model.Source}': the input '{input.Name}' declares {h} × {h} images; sizes from 1 to {MaxSize} are supported.");
            _structure.InputSize = (int)h;
        }
        string x = Stem(input.Name);
        int blocks = 0;
        var visited = new HashSet<string>(StringComparer.Ordinal) { x };
        while (true)
        {
            var next = Consumers(x);
            if (!next.Any(n => n.OpType is "Conv" or "Add"))
                break;
            x = Block(x, next);
            blocks++;
            if (!visited.Add(x))
                throw new InvalidDataException($"ONNX file '{_model.Source}': the graph loops back to '{x}'; a valid ONNX graph is acyclic.");
        }
        if (_stage != 3)
            throw new InvalidDataException($"ONNX file '{_model.Source}': found {_stage + 1} stages of residual blocks after {blocks} blocks; a ResNet has four (strides 4, 8, 16, 32).");
        _structure.Bottleneck = _bottleneck!.Value;
        _structure.FeatureMapName = x;
        var after = Consumers(x);
        if (after.Count == 1 && IsGlobalAverage(after[0]))
            _structure.PooledOutputName = after[0].Outputs[0];
        return _structure;
    }

    private string Stem(string input)
    {
        var convNode = Single(input, "Conv", "the image input");
        var conv = ReadConv(convNode);
        if (conv.Kernel != 7 || conv.Stride != 2 || conv.Groups != 1)
            throw Error(convNode, $"is a {conv.Kernel} × {conv.Kernel} stride-{conv.Stride} convolution; the supported ResNet stem is 7 × 7 with stride 2");
        _structure.Padding = conv.Pads switch
        {
            (3, 3) => ResNetPadding.Symmetric,
            (3, 2) => ResNetPadding.ExtraAtStart,
            _ => throw Error(convNode, $"pads its input {conv.Pads.Start} before and {conv.Pads.End} after; supported are 3/3 and 3/2"),
        };
        _structure.InputChannels = conv.InputChannels;
        AddConv("conv1", conv);
        var bnNode = Single(convNode.Outputs[0], "BatchNormalization", convNode.Label);
        AddBatchNorm("bn1", bnNode, conv);
        var reluNode = Single(bnNode.Outputs[0], "Relu", bnNode.Label);
        var poolNode = Single(reluNode.Outputs[0], "MaxPool", reluNode.Label);
        var kernel = poolNode.GetInts("kernel_shape");
        var strides = poolNode.GetInts("strides");
        if (kernel is not [3, 3] || strides is not [2, 2] || poolNode.GetInt("ceil_mode", 0) != 0 || !IsUnitOrAbsent(poolNode.GetInts("dilations")))
            throw Error(poolNode, "is not the ResNet stem's 3 × 3 stride-2 max-pool");
        CheckAutoPad(poolNode);
        var pads = ReadPads(poolNode);
        if (pads != ResNetConvolutions.Padding(3, 2, _structure.Padding))
            throw Error(poolNode, $"pads {pads.Start}/{pads.End}, which does not match the stem convolution's padding style");
        return poolNode.Outputs[0];
    }

    private string Block(string x, List<OnnxNode> consumers)
    {
        var chains = consumers.Where(n => n.OpType == "Conv").Select(Chain).ToList();
        var directAdds = consumers.Where(n => n.OpType == "Add").ToList();
        var unexpected = consumers.FirstOrDefault(n => n.OpType is not ("Conv" or "Add"));
        if (unexpected is not null)
            throw Error(unexpected, "reads a block input; expected only convolutions and the residual Add");
        var main = chains.OrderByDescending(c => c.Nodes.Count).First();
        List<OnnxNode>? projection = null;
        if (chains.Count == 2 && directAdds.Count == 0)
            projection = chains.Single(c => c != main).Nodes;
        else if (chains.Count != 1 || directAdds.Count != 1)
            throw Error(consumers[0], $"starts a block whose input feeds {chains.Count} convolution paths and {directAdds.Count} Add nodes; expected a main path and either the identity or one projection");
        var add = main.End;
        if (projection is not null && chains.Single(c => c != main).End != add || projection is null && directAdds[0] != add)
            throw Error(add, "does not join the block's main path with its shortcut");
        string[] ops = main.Nodes.Select(n => n.OpType).ToArray();
        bool bottleneck = ops.SequenceEqual(["Conv", "BatchNormalization", "Relu", "Conv", "BatchNormalization", "Relu", "Conv", "BatchNormalization"]);
        if (!bottleneck && !ops.SequenceEqual(["Conv", "BatchNormalization", "Relu", "Conv", "BatchNormalization"]))
            throw Error(main.Nodes[0], $"starts a residual path {string.Join(" → ", ops)}; expected Conv → BN → Relu → Conv → BN (basic) or three Conv → BN with Relu between (bottleneck)");
        if (_bottleneck is bool known && known != bottleneck)
            throw Error(main.Nodes[0], "mixes basic and bottleneck blocks in one network");
        _bottleneck = bottleneck;
        var convs = main.Nodes.Where(n => n.OpType == "Conv").Select(ReadConv).ToList();
        var convNodes = main.Nodes.Where(n => n.OpType == "Conv").ToList();
        var norms = main.Nodes.Where(n => n.OpType == "BatchNormalization").ToList();
        int strideIndex = bottleneck ? 1 : 0;
        int stride = convs[strideIndex].Stride;
        for (int i = 0; i < convs.Count; i++)
        {
            if (i != strideIndex && convs[i].Stride != 1)
                throw Error(convNodes[i], bottleneck
                    ? "is strided; only bottlenecks with the stride on the 3 × 3 convolution (ResNet v1.5, torchvision) are supported"
                    : "is strided; a basic block strides its first convolution only");
        }
        if (_stage < 0)
        {
            if (stride != 1)
                throw Error(convNodes[strideIndex], "strides the first block; layer1 of a ResNet has stride 1");
            _stage = 0;
        }
        else if (stride == 2)
        {
            _stage++;
            _blockInStage = 0;
            if (_stage > 3)
                throw Error(convNodes[strideIndex], "starts a fifth strided stage; a ResNet has four");
        }
        else if (stride != 1)
        {
            throw Error(convNodes[strideIndex], $"has stride {stride}; blocks stride by 1 or 2");
        }
        int planes = 64 << _stage;
        int expansion = bottleneck ? 4 : 1;
        int output = convs[^1].OutputChannels;
        if (output != planes * expansion)
            throw Error(convNodes[^1], $"outputs {output} channels; stage {_stage + 1} of this ResNet needs {planes * expansion}");
        if (bottleneck)
        {
            int groups = convs[1].Groups;
            int width = convs[1].OutputChannels;
            int widthPerGroup = width * 64 / (planes * groups);
            if (planes * widthPerGroup / 64 * groups != width || convs[0].OutputChannels != width)
                throw Error(convNodes[1], $"has {width} channels in {groups} groups, which no width per group gives at planes {planes}");
            if (_stage == 0 && _blockInStage == 0)
            {
                _structure.Groups = groups;
                _structure.WidthPerGroup = widthPerGroup;
            }
            else if (groups != _structure.Groups || widthPerGroup != _structure.WidthPerGroup)
                throw Error(convNodes[1], "changes groups or width per group between blocks");
        }
        else if (convs.Any(c => c.Groups != 1) || convs[0].OutputChannels != planes)
            throw Error(convNodes[0], "is grouped or has an unexpected width for a basic block");
        int[] kernels = bottleneck ? [1, 3, 1] : [3, 3];
        for (int i = 0; i < convs.Count; i++)
        {
            if (convs[i].Kernel != kernels[i])
                throw Error(convNodes[i], $"has a {convs[i].Kernel} × {convs[i].Kernel} kernel; expected {kernels[i]} × {kernels[i]}");
            CheckPadding(convNodes[i], convs[i]);
        }
        string prefix = $"layer{_stage + 1}.{_blockInStage}";
        for (int i = 0; i < convs.Count; i++)
        {
            AddConv($"{prefix}.conv{i + 1}", convs[i]);
            AddBatchNorm($"{prefix}.bn{i + 1}", norms[i], convs[i]);
        }
        int inputChannels = convs[0].InputChannels;
        bool needsProjection = stride != 1 || inputChannels != output;
        if (projection is null && needsProjection)
            throw Error(add, $"adds the block input ({inputChannels} channels, stride {stride}) without a projection to {output} channels");
        if (projection is not null)
        {
            if (!needsProjection)
                throw Error(projection[0], "projects a shortcut that keeps channels and resolution; this ResNet uses the identity there");
            if (!projection.Select(n => n.OpType).SequenceEqual(["Conv", "BatchNormalization"]))
                throw Error(projection[0], $"starts a shortcut {string.Join(" → ", projection.Select(n => n.OpType))}; expected a 1 × 1 Conv → BN projection");
            var proj = ReadConv(projection[0]);
            if (proj.Kernel != 1 || proj.Stride != stride || proj.Groups != 1 || proj.OutputChannels != output || proj.Pads != (0, 0))
                throw Error(projection[0], $"is not a 1 × 1 stride-{stride} unpadded projection to {output} channels");
            AddConv($"{prefix}.downsample.0", proj);
            AddBatchNorm($"{prefix}.downsample.1", projection[1], proj);
        }
        _structure.Layers[_stage]++;
        _blockInStage++;
        var relu = Single(add.Outputs[0], "Relu", add.Label);
        return relu.Outputs[0];
    }

    private (List<OnnxNode> Nodes, OnnxNode End) Chain(OnnxNode start)
    {
        var nodes = new List<OnnxNode>();
        var node = start;
        while (node.OpType != "Add")
        {
            if (node.OpType is not ("Conv" or "BatchNormalization" or "Relu"))
                throw Error(node, "is inside a residual block; expected only Conv, BatchNormalization and Relu before the Add");
            if (node.Outputs.Count != 1 && node.OpType != "BatchNormalization")
                throw Error(node, $"has {node.Outputs.Count} outputs");
            nodes.Add(node);
            if (nodes.Count > 16)
                throw Error(start, "starts a path that reaches no residual Add");
            var next = Consumers(node.Outputs[0]);
            if (next.Count != 1)
                throw Error(node, $"feeds {next.Count} nodes inside a residual block; expected one");
            node = next[0];
        }
        return (nodes, node);
    }

    private sealed record ConvInfo(OnnxNode Node, OnnxTensor Weight, OnnxTensor? Bias, int OutputChannels, int InputChannels, int Kernel, int Stride, int Groups, (int Start, int End) Pads);

    private ConvInfo ReadConv(OnnxNode node)
    {
        if (node.Inputs.Count < 2)
            throw Error(node, "has no weight input");
        var weight = Initializer(node, node.Inputs[1], "weight");
        if (weight.Dims.Count != 4 || weight.Dims[2] != weight.Dims[3])
            throw Error(node, $"has weight shape [{string.Join(", ", weight.Dims)}]; expected a square 2-D kernel out × in × k × k");
        OnnxTensor? bias = node.Inputs.Count > 2 && node.Inputs[2].Length > 0 ? Initializer(node, node.Inputs[2], "bias") : null;
        if (bias is not null && (bias.Dims.Count != 1 || bias.Dims[0] != weight.Dims[0]))
            throw Error(node, $"has bias shape [{string.Join(", ", bias.Dims)}]; expected [{weight.Dims[0]}]");
        // Every size is checked before the int conversions below: a hostile file's dims, groups or strides must not wrap.
        if (weight.Dims.Any(d => d is < 1 or > MaxSize))
            throw Error(node, $"has weight shape [{string.Join(", ", weight.Dims)}]; every size must be between 1 and {MaxSize}");
        int kernel = (int)weight.Dims[2];
        if (node.GetInts("kernel_shape") is { } shape && !shape.SequenceEqual([kernel, kernel]))
            throw Error(node, $"declares kernel_shape [{string.Join(", ", shape)}] but its weight is {kernel} × {kernel}");
        var strides = node.GetInts("strides") ?? [1, 1];
        if (strides.Count != 2 || strides[0] != strides[1] || strides[0] is < 1 or > MaxSize)
            throw Error(node, $"has strides [{string.Join(", ", strides)}]; expected equal strides on both axes");
        if (!IsUnitOrAbsent(node.GetInts("dilations")))
            throw Error(node, "is dilated; dilated convolutions are not supported");
        CheckAutoPad(node);
        long group = node.GetInt("group", 1);
        if (group < 1 || group > weight.Dims[0] || weight.Dims[0] % group != 0 || weight.Dims[1] * group > MaxSize)
            throw Error(node, $"has group {group}, which does not divide its {weight.Dims[0]} output channels into at most {MaxSize} input channels");
        int groups = (int)group;
        return new ConvInfo(node, weight, bias, (int)weight.Dims[0], (int)weight.Dims[1] * groups, kernel, (int)strides[0], groups, ReadPads(node));
    }

    private void CheckPadding(OnnxNode node, ConvInfo conv)
    {
        var expected = ResNetConvolutions.Padding(conv.Kernel, conv.Stride, _structure.Padding);
        if (conv.Pads != expected)
            throw Error(node, $"pads {conv.Pads.Start} before and {conv.Pads.End} after; the stem's padding style needs {expected.Start}/{expected.End} for a {conv.Kernel} × {conv.Kernel} stride-{conv.Stride} convolution");
    }

    private (int Start, int End) ReadPads(OnnxNode node)
    {
        var pads = node.GetInts("pads");
        if (pads is null)
            return (0, 0);
        if (pads.Count != 4 || pads[0] != pads[1] || pads[2] != pads[3] || pads.Any(p => p is < 0 or > MaxSize))
            throw Error(node, $"has pads [{string.Join(", ", pads)}]; expected the same padding on height and width");
        return ((int)pads[0], (int)pads[2]);
    }

    private void CheckAutoPad(OnnxNode node)
    {
        string autoPad = node.GetString("auto_pad", "NOTSET");
        if (autoPad != "NOTSET")
            throw Error(node, $"uses auto_pad {autoPad}; only explicit pads are supported");
    }

    private void AddConv(string name, ConvInfo conv)
    {
        _structure.Weights[$"{name}.weight"] = new ImportedWeight(conv.Node, conv.Weight.Dims.ToArray(), conv.Weight.ToFloats());
    }

    private void AddBatchNorm(string name, OnnxNode node, ConvInfo conv)
    {
        if (node.Inputs.Count != 5)
            throw Error(node, $"has {node.Inputs.Count} inputs; expected X, scale, B, mean, var");
        if (node.GetInt("spatial", 1) != 1 || node.GetInt("training_mode", 0) != 0)
            throw Error(node, "is not a spatial batch normalisation in inference mode");
        string[] parts = ["weight", "bias", "running_mean", "running_var"];
        for (int i = 0; i < 4; i++)
        {
            var t = Initializer(node, node.Inputs[i + 1], parts[i]);
            if (t.Dims.Count != 1 || t.Dims[0] != conv.OutputChannels)
                throw Error(node, $"has {parts[i]} shape [{string.Join(", ", t.Dims)}]; the convolution before it has {conv.OutputChannels} channels");
            float[] values = t.ToFloats();
            // BN(conv(x) + b) = BN'(conv(x)) with mean' = mean − b, so a convolution bias folds into the running mean.
            if (i == 2 && conv.Bias is not null)
            {
                float[] bias = conv.Bias.ToFloats();
                values = values.Select((m, c) => m - bias[c]).ToArray();
            }
            _structure.Weights[$"{name}.{parts[i]}"] = new ImportedWeight(node, [conv.OutputChannels], values);
        }
        _structure.Epsilons[name] = node.GetFloat("epsilon", 1e-5f);
    }

    private OnnxTensor Initializer(OnnxNode node, string name, string role)
    {
        if (!_graph.Initializers.TryGetValue(name, out var tensor))
            throw Error(node, $"takes its {role} from '{name}', which is not an initializer; only constant weights can be imported");
        if (tensor.FloatData is null)
            throw Error(node, $"has {role} '{name}' of type {tensor.DataType}; expected floating-point weights");
        return tensor;
    }

    private List<OnnxNode> Consumers(string value) => _consumers.TryGetValue(value, out var list) ? list : [];

    private OnnxNode Single(string value, string opType, string after)
    {
        var next = Consumers(value);
        if (next.Count != 1 || next[0].OpType != opType)
        {
            string found = next.Count == 0 ? "nothing" : string.Join(", ", next.Select(n => n.Label));
            throw new InvalidDataException($"ONNX file '{_model.Source}': expected one {opType} after {after}, found {found}.");
        }
        return next[0];
    }

    private bool IsGlobalAverage(OnnxNode node) =>
        node.OpType == "GlobalAveragePool"
        || node.OpType == "AveragePool" && node.GetInts("kernel_shape") is [var kh, var kw] && kh == kw && kh * 32 == _structure.InputSize
           && (node.GetInts("pads") ?? [0, 0, 0, 0]).All(p => p == 0);

    private static bool IsUnitOrAbsent(IReadOnlyList<long>? values) => values is null || values.All(v => v == 1);

    private InvalidDataException Error(OnnxNode node, string problem) =>
        new($"ONNX file '{_model.Source}': {node.Label} {problem}.");
}
