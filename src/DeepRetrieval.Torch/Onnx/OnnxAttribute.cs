namespace DeepRetrieval.Torch.Onnx;

/// <summary>One attribute of an ONNX node (<c>AttributeProto</c>): a named float, integer, string, tensor or list.</summary>
public sealed class OnnxAttribute
{
    private OnnxAttribute(string name, OnnxAttributeType type, float f, long i, string? s, OnnxTensor? t, float[] floats, long[] ints, string[] strings)
    {
        Name = name;
        Type = type;
        Float = f;
        Int = i;
        String = s;
        Tensor = t;
        Floats = floats;
        Ints = ints;
        Strings = strings;
    }

    /// <summary>The attribute name, e.g. <c>kernel_shape</c>.</summary>
    public string Name { get; }

    /// <summary>Which value the attribute holds (inferred from the fields present when the file leaves it unset).</summary>
    public OnnxAttributeType Type { get; }

    /// <summary>The value of a <see cref="OnnxAttributeType.Float"/> attribute.</summary>
    public float Float { get; }

    /// <summary>The value of an <see cref="OnnxAttributeType.Int"/> attribute.</summary>
    public long Int { get; }

    /// <summary>The value of a <see cref="OnnxAttributeType.String"/> attribute (UTF-8 decoded).</summary>
    public string? String { get; }

    /// <summary>The value of a <see cref="OnnxAttributeType.Tensor"/> attribute.</summary>
    public OnnxTensor? Tensor { get; }

    /// <summary>The values of a <see cref="OnnxAttributeType.Floats"/> attribute.</summary>
    public IReadOnlyList<float> Floats { get; }

    /// <summary>The values of an <see cref="OnnxAttributeType.Ints"/> attribute.</summary>
    public IReadOnlyList<long> Ints { get; }

    /// <summary>The values of an <see cref="OnnxAttributeType.Strings"/> attribute.</summary>
    public IReadOnlyList<string> Strings { get; }

    internal static OnnxAttribute Read(ProtobufReader reader)
    {
        string name = "";
        var type = OnnxAttributeType.Undefined;
        float f = 0;
        long i = 0;
        string? s = null;
        OnnxTensor? t = null;
        var floats = new List<float>();
        var ints = new List<long>();
        var strings = new List<string>();
        var present = OnnxAttributeType.Undefined;
        while (reader.TryReadTag(out int field, out int wireType))
        {
            switch (field)
            {
                case 1: reader.ExpectWireType(wireType, 2, "name"); name = reader.ReadString("name"); break;
                case 2: reader.ExpectWireType(wireType, 5, "f"); f = reader.ReadFloat("f"); present = OnnxAttributeType.Float; break;
                case 3: reader.ExpectWireType(wireType, 0, "i"); i = reader.ReadInt64("i"); present = OnnxAttributeType.Int; break;
                case 4: reader.ExpectWireType(wireType, 2, "s"); s = reader.ReadString("s"); present = OnnxAttributeType.String; break;
                case 5: reader.ExpectWireType(wireType, 2, "t"); t = OnnxTensor.Read(reader.ReadMessage($"{reader.Path}.t")); present = OnnxAttributeType.Tensor; break;
                case 7: reader.ReadRepeatedFloat(wireType, floats, "floats"); present = OnnxAttributeType.Floats; break;
                case 8: reader.ReadRepeatedVarint(wireType, ints, "ints"); present = OnnxAttributeType.Ints; break;
                case 9: reader.ExpectWireType(wireType, 2, "strings"); strings.Add(reader.ReadString("strings")); present = OnnxAttributeType.Strings; break;
                case 20: reader.ExpectWireType(wireType, 0, "type"); type = (OnnxAttributeType)reader.ReadInt32("type"); break;
                default: reader.Skip(wireType, field); break;
            }
        }
        if (name.Length == 0)
            throw new InvalidDataException($"ONNX file '{reader.FileName}': {reader.Path}: an attribute has no name.");
        if (type == OnnxAttributeType.Undefined)
            type = present;
        return new OnnxAttribute(name, type, f, i, s, t, floats.ToArray(), ints.ToArray(), strings.ToArray());
    }
}
