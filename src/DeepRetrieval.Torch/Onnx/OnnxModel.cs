namespace DeepRetrieval.Torch.Onnx;

/// <summary>
/// An ONNX model file (<c>ModelProto</c>) read by a small self-contained protobuf reader: versions, operator sets and the
/// graph with its nodes, attributes and weights. Enough to import the weights of a network into TorchSharp
/// (<see cref="OnnxImporter"/>); it does not run the model. Weights stored in external files are not supported.
/// </summary>
public sealed class OnnxModel
{
    private OnnxModel(string source, long irVersion, Dictionary<string, long> opsets, string producerName, string producerVersion, OnnxGraph graph)
    {
        Source = source;
        IrVersion = irVersion;
        OpsetImports = opsets;
        ProducerName = producerName;
        ProducerVersion = producerVersion;
        Graph = graph;
    }

    /// <summary>The file path (or the label given to <see cref="Parse"/>), used in error messages.</summary>
    public string Source { get; }

    /// <summary>The ONNX IR version.</summary>
    public long IrVersion { get; }

    /// <summary>Operator set versions by domain; the default ONNX domain is the empty string.</summary>
    public IReadOnlyDictionary<string, long> OpsetImports { get; }

    /// <summary>The default-domain operator set version, 0 when not declared.</summary>
    public long OpsetVersion => OpsetImports.TryGetValue("", out long v) ? v : OpsetImports.TryGetValue("ai.onnx", out v) ? v : 0;

    /// <summary>The tool that wrote the file (e.g. <c>CNTK</c>, <c>pytorch</c>).</summary>
    public string ProducerName { get; }

    /// <summary>The version of that tool.</summary>
    public string ProducerVersion { get; }

    /// <summary>The main graph.</summary>
    public OnnxGraph Graph { get; }

    /// <summary>Reads an .onnx file.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is truncated or corrupt (the message names the file and the field), has no graph,
    /// keeps weights in external files, or uses an unsupported tensor data type (named).</exception>
    public static OnnxModel Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"ONNX file '{path}' does not exist.", path);
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Reads a model from bytes.</summary>
    /// <param name="bytes">The serialised <c>ModelProto</c>.</param>
    /// <param name="source">A label for error messages.</param>
    /// <exception cref="InvalidDataException">As <see cref="Load"/>.</exception>
    public static OnnxModel Parse(ReadOnlyMemory<byte> bytes, string source = "<memory>")
    {
        ArgumentNullException.ThrowIfNull(source);
        var reader = new ProtobufReader(bytes, source, "model");
        long irVersion = 0;
        var opsets = new Dictionary<string, long>(StringComparer.Ordinal);
        string producerName = "", producerVersion = "";
        OnnxGraph? graph = null;
        while (reader.TryReadTag(out int field, out int wireType))
        {
            switch (field)
            {
                case 1: reader.ExpectWireType(wireType, 0, "ir_version"); irVersion = reader.ReadInt64("ir_version"); break;
                case 2: reader.ExpectWireType(wireType, 2, "producer_name"); producerName = reader.ReadString("producer_name"); break;
                case 3: reader.ExpectWireType(wireType, 2, "producer_version"); producerVersion = reader.ReadString("producer_version"); break;
                case 7: reader.ExpectWireType(wireType, 2, "graph"); graph = OnnxGraph.Read(reader.ReadMessage("graph")); break;
                case 8:
                    reader.ExpectWireType(wireType, 2, "opset_import");
                    var (domain, version) = ReadOpset(reader.ReadMessage($"model.opset_import[{opsets.Count}]"));
                    opsets[domain] = version;
                    break;
                default: reader.Skip(wireType, field); break;
            }
        }
        if (graph is null)
            throw new InvalidDataException($"ONNX file '{source}' has no graph (field 7 of ModelProto is missing); is it an ONNX model?");
        return new OnnxModel(source, irVersion, opsets, producerName, producerVersion, graph);
    }

    private static (string Domain, long Version) ReadOpset(ProtobufReader reader)
    {
        string domain = "";
        long version = 0;
        while (reader.TryReadTag(out int field, out int wireType))
        {
            if (field == 1 && wireType == 2)
                domain = reader.ReadString("domain");
            else if (field == 2 && wireType == 0)
                version = reader.ReadInt64("version");
            else
                reader.Skip(wireType, field);
        }
        return (domain, version);
    }
}
