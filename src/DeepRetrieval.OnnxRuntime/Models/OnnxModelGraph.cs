namespace DeepRetrieval.OnnxRuntime.Models;

/// <summary>
/// What an ONNX file's graph holds, read without ONNX Runtime: its inputs, outputs and nodes with the values they produce. Use it to
/// pick an intermediate value for <see cref="OnnxEmbedderOptions.OutputName"/> (a feature map before the network's own pooling, a
/// lower stage for local features). Reading validates the protobuf structure, so a file that is not an ONNX model fails here with
/// an <see cref="InvalidDataException"/>.
/// </summary>
public sealed class OnnxModelGraph
{
    private static readonly HashSet<string> PoolingOps = new(StringComparer.Ordinal) { "GlobalAveragePool", "GlobalMaxPool", "AveragePool" };

    private readonly HashSet<string> _producedValues;

    private OnnxModelGraph(long irVersion, string producerName, string graphName, string[] inputs, string[] outputs, OnnxNodeInfo[] nodes, bool hasExternalData)
    {
        IrVersion = irVersion;
        ProducerName = producerName;
        GraphName = graphName;
        Inputs = inputs;
        Outputs = outputs;
        Nodes = nodes;
        HasExternalData = hasExternalData;
        _producedValues = new HashSet<string>(nodes.SelectMany(n => n.Outputs).Where(o => o.Length > 0), StringComparer.Ordinal);
    }

    /// <summary>The file's ONNX IR version.</summary>
    public long IrVersion { get; }

    /// <summary>The producer recorded in the file (e.g. <c>pytorch</c>, <c>CNTK</c>), or empty.</summary>
    public string ProducerName { get; }

    /// <summary>The graph's name, or empty.</summary>
    public string GraphName { get; }

    /// <summary>Names of the graph inputs, initializers included when the file lists them as inputs (IR version 3 and older).</summary>
    public IReadOnlyList<string> Inputs { get; }

    /// <summary>Names of the graph outputs.</summary>
    public IReadOnlyList<string> Outputs { get; }

    /// <summary>The nodes in file order (top-level graph only; sub-graphs of control-flow nodes are not listed).</summary>
    public IReadOnlyList<OnnxNodeInfo> Nodes { get; }

    /// <summary>Whether some weights live in external data files next to the model.</summary>
    public bool HasExternalData { get; }

    /// <summary>
    /// The value fed to the graph's last global pooling node (<c>GlobalAveragePool</c>, <c>GlobalMaxPool</c>, or the
    /// <c>AveragePool</c> that CNTK and older exporters use), i.e. the backbone's last feature map, ready for GeM or R-MAC; null
    /// when the graph has no such node.
    /// </summary>
    public string? LastPoolingInput => Nodes.LastOrDefault(n => PoolingOps.Contains(n.OpType) && n.Inputs.Count > 0)?.Inputs[0];

    /// <summary>Whether some node of the top-level graph produces the value <paramref name="name"/>.</summary>
    /// <param name="name">A value name.</param>
    public bool Produces(string name) => _producedValues.Contains(name);

    /// <summary>Reads an ONNX file's graph.</summary>
    /// <param name="path">The .onnx file.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is empty, larger than protobuf's 2 GB limit, or not an ONNX model.</exception>
    public static OnnxModelGraph Read(string path) => Parse(OnnxModelFile.ReadBytes(path), path);

    internal static OnnxModelGraph Parse(ReadOnlySpan<byte> model, string path)
    {
        long irVersion = 0;
        string producer = "";
        bool hasGraph = false;
        var graph = new GraphContents();
        var scanner = new ProtobufScanner(model, path);
        while (scanner.Next())
        {
            switch (scanner.Field, scanner.WireType)
            {
                case (1, 0):
                    irVersion = (long)scanner.Varint;
                    break;
                case (2, 2):
                    producer = scanner.Text;
                    break;
                case (7, 2):
                    // A message field that occurs twice is merged, as protobuf parsers do (and as ONNX Runtime will).
                    ReadGraph(scanner.Bytes, path, graph);
                    hasGraph = true;
                    break;
            }
        }
        if (irVersion <= 0)
            throw new InvalidDataException($"'{path}' is not an ONNX model: it has no IR version.");
        if (!hasGraph)
            throw new InvalidDataException($"'{path}' is not an ONNX model: it has no graph.");
        return new OnnxModelGraph(irVersion, producer, graph.Name, [.. graph.Inputs], [.. graph.Outputs], [.. graph.Nodes], graph.HasExternalData);
    }

    private sealed class GraphContents
    {
        public string Name = "";
        public readonly List<string> Inputs = [];
        public readonly List<string> Outputs = [];
        public readonly List<OnnxNodeInfo> Nodes = [];
        public bool HasExternalData;
    }

    private static void ReadGraph(ReadOnlySpan<byte> graph, string path, GraphContents contents)
    {
        var scanner = new ProtobufScanner(graph, path);
        while (scanner.Next())
        {
            if (scanner.WireType != 2) continue;
            switch (scanner.Field)
            {
                case 1: contents.Nodes.Add(ReadNode(scanner.Bytes, path)); break;
                case 2: contents.Name = scanner.Text; break;
                case 5: contents.HasExternalData |= IsExternal(scanner.Bytes, path); break;
                case 11: contents.Inputs.Add(ReadValueInfo(scanner.Bytes, path, "input")); break;
                case 12: contents.Outputs.Add(ReadValueInfo(scanner.Bytes, path, "output")); break;
            }
        }
    }

    private static OnnxNodeInfo ReadNode(ReadOnlySpan<byte> node, string path)
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        string name = "", opType = "";
        var scanner = new ProtobufScanner(node, path);
        while (scanner.Next())
        {
            if (scanner.WireType != 2) continue;
            switch (scanner.Field)
            {
                case 1: inputs.Add(scanner.Text); break;
                case 2: outputs.Add(scanner.Text); break;
                case 3: name = scanner.Text; break;
                case 4: opType = scanner.Text; break;
            }
        }
        return new OnnxNodeInfo(opType, name, inputs, outputs);
    }

    // ValueInfoProto: name (1) and type (2) → TypeProto.tensor_type (1) → shape (2) → dim (1) → dim_value (1). ONNX Runtime
    // reports dimensions as 32-bit integers (truncating larger ones), so a declared size is checked here, where it is still
    // the file's 64-bit value: negative or above int.MaxValue is a corrupt model, not a size to wrap.
    private static string ReadValueInfo(ReadOnlySpan<byte> valueInfo, string path, string role)
    {
        string name = "";
        var dims = new List<long>();
        var scanner = new ProtobufScanner(valueInfo, path);
        while (scanner.Next())
        {
            if (scanner.Field == 1 && scanner.WireType == 2)
                name = scanner.Text;
            else if (scanner.Field == 2 && scanner.WireType == 2)
                ReadDeclaredDims(Nested(scanner.Bytes, 1, path), path, dims);
        }
        for (int i = 0; i < dims.Count; i++)
        {
            if (dims[i] is < 0 or > int.MaxValue)
                throw new InvalidDataException($"'{path}' is corrupt: graph {role} '{name}' declares dimension {i} as {dims[i]}; a dimension is between 0 and {int.MaxValue}.");
        }
        return name;
    }

    private static void ReadDeclaredDims(ReadOnlySpan<byte> tensorType, string path, List<long> dims)
    {
        var shape = Nested(tensorType, 2, path);
        var scanner = new ProtobufScanner(shape, path);
        while (scanner.Next())
        {
            if (scanner.Field != 1 || scanner.WireType != 2) continue;
            var dim = new ProtobufScanner(scanner.Bytes, path);
            while (dim.Next())
            {
                if (dim.Field == 1 && dim.WireType == 0)
                    dims.Add((long)dim.Varint);
            }
        }
    }

    // The last occurrence of a length-delimited field of a message (empty when absent), as protobuf merging gives for scalars.
    private static ReadOnlySpan<byte> Nested(ReadOnlySpan<byte> message, int field, string path)
    {
        ReadOnlySpan<byte> found = default;
        var scanner = new ProtobufScanner(message, path);
        while (scanner.Next())
        {
            if (scanner.Field == field && scanner.WireType == 2)
                found = scanner.Bytes;
        }
        return found;
    }

    // TensorProto.data_location (field 14) = EXTERNAL (1).
    private static bool IsExternal(ReadOnlySpan<byte> tensor, string path)
    {
        var scanner = new ProtobufScanner(tensor, path);
        while (scanner.Next())
        {
            if (scanner.Field == 14 && scanner.WireType == 0 && scanner.Varint == 1)
                return true;
        }
        return false;
    }
}
