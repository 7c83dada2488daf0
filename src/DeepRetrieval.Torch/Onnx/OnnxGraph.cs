namespace DeepRetrieval.Torch.Onnx;

/// <summary>An ONNX graph (<c>GraphProto</c>): nodes in topological order, weights (initializers), declared inputs and outputs.</summary>
public sealed class OnnxGraph
{
    private OnnxGraph(string name, OnnxNode[] nodes, Dictionary<string, OnnxTensor> initializers, OnnxValueInfo[] inputs, OnnxValueInfo[] outputs, OnnxValueInfo[] valueInfo)
    {
        Name = name;
        Nodes = nodes;
        Initializers = initializers;
        Inputs = inputs;
        Outputs = outputs;
        ValueInfo = valueInfo;
    }

    /// <summary>The graph name.</summary>
    public string Name { get; }

    /// <summary>The nodes, in the file's (topological) order.</summary>
    public IReadOnlyList<OnnxNode> Nodes { get; }

    /// <summary>Constant tensors (weights) by value name.</summary>
    public IReadOnlyDictionary<string, OnnxTensor> Initializers { get; }

    /// <summary>Declared inputs; in older files initializers are listed here too (see <see cref="DataInputs"/>).</summary>
    public IReadOnlyList<OnnxValueInfo> Inputs { get; }

    /// <summary>Declared outputs.</summary>
    public IReadOnlyList<OnnxValueInfo> Outputs { get; }

    /// <summary>Declared shapes of intermediate values, when the exporter wrote them.</summary>
    public IReadOnlyList<OnnxValueInfo> ValueInfo { get; }

    /// <summary>The inputs that are not initializers: what a caller feeds.</summary>
    public IEnumerable<OnnxValueInfo> DataInputs => Inputs.Where(i => !Initializers.ContainsKey(i.Name));

    internal static OnnxGraph Read(ProtobufReader reader)
    {
        string name = "";
        var nodes = new List<OnnxNode>();
        var initializers = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
        var inputs = new List<OnnxValueInfo>();
        var outputs = new List<OnnxValueInfo>();
        var valueInfo = new List<OnnxValueInfo>();
        while (reader.TryReadTag(out int field, out int wireType))
        {
            switch (field)
            {
                case 1: reader.ExpectWireType(wireType, 2, "node"); nodes.Add(OnnxNode.Read(reader.ReadMessage($"{reader.Path}.node[{nodes.Count}]"))); break;
                case 2: reader.ExpectWireType(wireType, 2, "name"); name = reader.ReadString("name"); break;
                case 5:
                    reader.ExpectWireType(wireType, 2, "initializer");
                    var tensor = OnnxTensor.Read(reader.ReadMessage($"{reader.Path}.initializer[{initializers.Count}]"));
                    if (!initializers.TryAdd(tensor.Name, tensor))
                        throw reader.Corrupt($"initializer list (initializer '{tensor.Name}' appears twice)");
                    break;
                case 11: reader.ExpectWireType(wireType, 2, "input"); inputs.Add(OnnxValueInfo.Read(reader.ReadMessage($"{reader.Path}.input[{inputs.Count}]"))); break;
                case 12: reader.ExpectWireType(wireType, 2, "output"); outputs.Add(OnnxValueInfo.Read(reader.ReadMessage($"{reader.Path}.output[{outputs.Count}]"))); break;
                case 13: reader.ExpectWireType(wireType, 2, "value_info"); valueInfo.Add(OnnxValueInfo.Read(reader.ReadMessage($"{reader.Path}.value_info[{valueInfo.Count}]"))); break;
                default: reader.Skip(wireType, field); break;
            }
        }
        return new OnnxGraph(name, nodes.ToArray(), initializers, inputs.ToArray(), outputs.ToArray(), valueInfo.ToArray());
    }
}
