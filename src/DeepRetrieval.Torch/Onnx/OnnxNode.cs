namespace DeepRetrieval.Torch.Onnx;

/// <summary>One operator of an ONNX graph (<c>NodeProto</c>): its type, the value names it reads and writes, and its attributes.</summary>
public sealed class OnnxNode
{
    private OnnxNode(string name, string opType, string domain, string[] inputs, string[] outputs, Dictionary<string, OnnxAttribute> attributes)
    {
        Name = name;
        OpType = opType;
        Domain = domain;
        Inputs = inputs;
        Outputs = outputs;
        Attributes = attributes;
    }

    /// <summary>The node name; may be empty in the file, then the first output's name stands for it in messages.</summary>
    public string Name { get; }

    /// <summary>The operator, e.g. <c>Conv</c>.</summary>
    public string OpType { get; }

    /// <summary>The operator set domain; empty for the default ONNX domain.</summary>
    public string Domain { get; }

    /// <summary>Input value names in operator order; an empty name is an omitted optional input.</summary>
    public IReadOnlyList<string> Inputs { get; }

    /// <summary>Output value names.</summary>
    public IReadOnlyList<string> Outputs { get; }

    /// <summary>Attributes by name.</summary>
    public IReadOnlyDictionary<string, OnnxAttribute> Attributes { get; }

    /// <summary>A readable label for messages: op type and name (or first output).</summary>
    public string Label => $"{OpType} node '{(Name.Length > 0 ? Name : Outputs.FirstOrDefault() ?? "?")}'";

    /// <summary>An integer attribute, or <paramref name="fallback"/> when absent.</summary>
    /// <param name="name">Attribute name.</param>
    /// <param name="fallback">The ONNX default.</param>
    public long GetInt(string name, long fallback) => Attributes.TryGetValue(name, out var a) ? a.Int : fallback;

    /// <summary>A float attribute, or <paramref name="fallback"/> when absent.</summary>
    /// <param name="name">Attribute name.</param>
    /// <param name="fallback">The ONNX default.</param>
    public float GetFloat(string name, float fallback) => Attributes.TryGetValue(name, out var a) ? a.Float : fallback;

    /// <summary>An integer-list attribute, or null when absent.</summary>
    /// <param name="name">Attribute name.</param>
    public IReadOnlyList<long>? GetInts(string name) => Attributes.TryGetValue(name, out var a) ? a.Ints : null;

    /// <summary>A string attribute, or <paramref name="fallback"/> when absent.</summary>
    /// <param name="name">Attribute name.</param>
    /// <param name="fallback">The ONNX default.</param>
    public string GetString(string name, string fallback) => Attributes.TryGetValue(name, out var a) ? a.String ?? fallback : fallback;

    internal static OnnxNode Read(ProtobufReader reader)
    {
        string name = "", opType = "", domain = "";
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attributes = new Dictionary<string, OnnxAttribute>(StringComparer.Ordinal);
        while (reader.TryReadTag(out int field, out int wireType))
        {
            switch (field)
            {
                case 1: reader.ExpectWireType(wireType, 2, "input"); inputs.Add(reader.ReadString("input")); break;
                case 2: reader.ExpectWireType(wireType, 2, "output"); outputs.Add(reader.ReadString("output")); break;
                case 3: reader.ExpectWireType(wireType, 2, "name"); name = reader.ReadString("name"); break;
                case 4: reader.ExpectWireType(wireType, 2, "op_type"); opType = reader.ReadString("op_type"); break;
                case 5:
                    reader.ExpectWireType(wireType, 2, "attribute");
                    var attribute = OnnxAttribute.Read(reader.ReadMessage($"{reader.Path}.attribute[{attributes.Count}]"));
                    if (!attributes.TryAdd(attribute.Name, attribute))
                        throw reader.Corrupt($"attribute list (attribute '{attribute.Name}' appears twice)");
                    break;
                case 7: reader.ExpectWireType(wireType, 2, "domain"); domain = reader.ReadString("domain"); break;
                default: reader.Skip(wireType, field); break;
            }
        }
        if (opType.Length == 0)
            throw new InvalidDataException($"ONNX file '{reader.FileName}': {reader.Path}: node '{name}' has no op_type.");
        return new OnnxNode(name, opType, domain, inputs.ToArray(), outputs.ToArray(), attributes);
    }
}
