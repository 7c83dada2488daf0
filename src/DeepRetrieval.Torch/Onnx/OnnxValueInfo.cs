namespace DeepRetrieval.Torch.Onnx;

/// <summary>A declared graph input, output or intermediate value (<c>ValueInfoProto</c> with a tensor type).</summary>
/// <param name="Name">The value name.</param>
/// <param name="ElementType">The tensor element type, <see cref="OnnxDataType.Undefined"/> when not a tensor or not declared.</param>
/// <param name="Shape">The dimensions; null entries are symbolic or unknown (e.g. a batch dimension named <c>N</c>); null when no shape is declared.</param>
public sealed record OnnxValueInfo(string Name, OnnxDataType ElementType, IReadOnlyList<long?>? Shape)
{
    internal static OnnxValueInfo Read(ProtobufReader reader)
    {
        string name = "";
        var elementType = OnnxDataType.Undefined;
        List<long?>? shape = null;
        while (reader.TryReadTag(out int field, out int wireType))
        {
            if (field == 1 && wireType == 2)
                name = reader.ReadString("name");
            else if (field == 2 && wireType == 2)
                ReadType(reader.ReadMessage($"{reader.Path}.type"), ref elementType, ref shape);
            else
                reader.Skip(wireType, field);
        }
        return new OnnxValueInfo(name, elementType, shape);
    }

    private static void ReadType(ProtobufReader type, ref OnnxDataType elementType, ref List<long?>? shape)
    {
        while (type.TryReadTag(out int field, out int wireType))
        {
            if (field != 1 || wireType != 2)
            {
                type.Skip(wireType, field);
                continue;
            }
            var tensor = type.ReadMessage($"{type.Path}.tensor_type");
            while (tensor.TryReadTag(out int tf, out int tw))
            {
                if (tf == 1 && tw == 0)
                    elementType = (OnnxDataType)tensor.ReadInt32("elem_type");
                else if (tf == 2 && tw == 2)
                    shape = ReadShape(tensor.ReadMessage($"{tensor.Path}.shape"));
                else
                    tensor.Skip(tw, tf);
            }
        }
    }

    private static List<long?> ReadShape(ProtobufReader shape)
    {
        var dims = new List<long?>();
        while (shape.TryReadTag(out int field, out int wireType))
        {
            if (field != 1 || wireType != 2)
            {
                shape.Skip(wireType, field);
                continue;
            }
            var dim = shape.ReadMessage($"{shape.Path}.dim[{dims.Count}]");
            long? value = null;
            while (dim.TryReadTag(out int df, out int dw))
            {
                if (df == 1 && dw == 0)
                    value = dim.ReadInt64("dim_value");
                else
                    dim.Skip(dw, df);
            }
            dims.Add(value);
        }
        return dims;
    }
}
