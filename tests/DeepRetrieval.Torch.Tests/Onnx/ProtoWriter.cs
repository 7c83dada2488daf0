using System.Text;

namespace DeepRetrieval.Torch.Tests.Onnx;

/// <summary>A tiny protobuf encoder for building ONNX test files by hand.</summary>
internal sealed class ProtoWriter
{
    private readonly MemoryStream _stream = new();

    public byte[] ToArray() => _stream.ToArray();

    public ProtoWriter Tag(int field, int wireType) => RawVarint(((ulong)field << 3) | (uint)wireType);

    public ProtoWriter RawVarint(ulong value)
    {
        while (value >= 0x80)
        {
            _stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        _stream.WriteByte((byte)value);
        return this;
    }

    public ProtoWriter Raw(byte[] bytes)
    {
        _stream.Write(bytes);
        return this;
    }

    public ProtoWriter Varint(int field, long value) => Tag(field, 0).RawVarint((ulong)value);

    public ProtoWriter Float(int field, float value) => Tag(field, 5).Raw(BitConverter.GetBytes(value));

    public ProtoWriter Bytes(int field, byte[] value) => Tag(field, 2).RawVarint((ulong)value.Length).Raw(value);

    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtoWriter Message(int field, Action<ProtoWriter> build)
    {
        var inner = new ProtoWriter();
        build(inner);
        return Bytes(field, inner.ToArray());
    }

    public ProtoWriter PackedVarints(int field, IEnumerable<long> values)
    {
        var inner = new ProtoWriter();
        foreach (long v in values)
            inner.RawVarint((ulong)v);
        return Bytes(field, inner.ToArray());
    }

    public ProtoWriter PackedFloats(int field, IEnumerable<float> values) => Bytes(field, values.SelectMany(BitConverter.GetBytes).ToArray());

    // ONNX helpers (field numbers from onnx.proto).

    public static Action<ProtoWriter> FloatTensor(string name, long[] dims, float[] values, bool raw = true) => t =>
    {
        t.PackedVarints(1, dims).Varint(2, 1).String(8, name);
        if (raw)
            t.Bytes(9, values.SelectMany(BitConverter.GetBytes).ToArray());
        else
            t.PackedFloats(4, values);
    };

    public static Action<ProtoWriter> Node(string opType, string[] inputs, string[] outputs, params Action<ProtoWriter>[] attributes) => n =>
    {
        foreach (string i in inputs)
            n.String(1, i);
        foreach (string o in outputs)
            n.String(2, o);
        n.String(3, outputs[0] + "_node").String(4, opType);
        foreach (var a in attributes)
            n.Message(5, a);
    };

    public static Action<ProtoWriter> IntsAttribute(string name, params long[] values) => a => a.String(1, name).PackedVarints(8, values).Varint(20, 7);

    public static Action<ProtoWriter> IntAttribute(string name, long value) => a => a.String(1, name).Varint(3, value).Varint(20, 2);

    public static Action<ProtoWriter> FloatAttribute(string name, float value) => a => a.String(1, name).Float(2, value).Varint(20, 1);

    public static Action<ProtoWriter> ValueInfo(string name, params long[] shape) => v => v.String(1, name).Message(2, type => type.Message(1, tensor =>
        tensor.Varint(1, 1).Message(2, s =>
        {
            foreach (long d in shape)
                s.Message(1, dim => dim.Varint(1, d));
        })));

    public static byte[] Model(Action<ProtoWriter> graph) =>
        new ProtoWriter().Varint(1, 8).Message(8, o => o.String(1, "").Varint(2, 17)).String(2, "tests").Message(7, graph).ToArray();
}
