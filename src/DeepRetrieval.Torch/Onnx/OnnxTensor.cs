using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace DeepRetrieval.Torch.Onnx;

/// <summary>
/// An ONNX tensor (<c>TensorProto</c>): an initializer or an attribute value. Floating-point types (float, double, float16,
/// bfloat16) are decoded to <see cref="FloatData"/>, integer and boolean types to <see cref="Int64Data"/>, row-major in
/// <see cref="Dims"/> order.
/// </summary>
public sealed class OnnxTensor
{
    private OnnxTensor(string name, long[] dims, OnnxDataType dataType, float[]? floats, long[]? int64s)
    {
        Name = name;
        Dims = dims;
        DataType = dataType;
        FloatData = floats;
        Int64Data = int64s;
    }

    /// <summary>The tensor name (the value name for initializers).</summary>
    public string Name { get; }

    /// <summary>The shape; empty for a scalar.</summary>
    public IReadOnlyList<long> Dims { get; }

    /// <summary>The element type stored in the file.</summary>
    public OnnxDataType DataType { get; }

    /// <summary>The values of a floating-point tensor, else null.</summary>
    public float[]? FloatData { get; }

    /// <summary>The values of an integer or boolean tensor, else null.</summary>
    public long[]? Int64Data { get; }

    /// <summary>Number of elements (the product of <see cref="Dims"/>).</summary>
    public long ElementCount => Dims.Aggregate(1L, (a, b) => a * b);

    /// <summary>The values as floats (integers converted).</summary>
    public float[] ToFloats() => FloatData ?? Int64Data!.Select(v => (float)v).ToArray();

    /// <summary>The values as 64-bit integers.</summary>
    /// <exception cref="InvalidOperationException">The tensor holds floating-point values.</exception>
    public long[] ToInt64s() => Int64Data ?? throw new InvalidOperationException($"Tensor '{Name}' holds {DataType} values, not integers.");

    internal static OnnxTensor Read(ProtobufReader reader)
    {
        var dims = new List<long>();
        var dataType = OnnxDataType.Undefined;
        string name = "";
        ReadOnlyMemory<byte>? raw = null;
        var floats = new List<float>();
        var doubles = new List<double>();
        var int64s = new List<long>();
        var int32s = new List<long>();
        var uint64s = new List<long>();
        bool external = false;
        while (reader.TryReadTag(out int field, out int wireType))
        {
            switch (field)
            {
                case 1: reader.ReadRepeatedVarint(wireType, dims, "dims"); break;
                case 2: reader.ExpectWireType(wireType, 0, "data_type"); dataType = (OnnxDataType)reader.ReadInt32("data_type"); break;
                case 4: reader.ReadRepeatedFloat(wireType, floats, "float_data"); break;
                case 5: reader.ReadRepeatedVarint(wireType, int32s, "int32_data"); break;
                case 6: throw new InvalidDataException($"ONNX file '{reader.FileName}': {reader.Path}: string tensors are not supported.");
                case 7: reader.ReadRepeatedVarint(wireType, int64s, "int64_data"); break;
                case 8: reader.ExpectWireType(wireType, 2, "name"); name = reader.ReadString("name"); break;
                case 9: reader.ExpectWireType(wireType, 2, "raw_data"); raw = reader.ReadBytes("raw_data"); break;
                case 10: reader.ReadRepeatedDouble(wireType, doubles, "double_data"); break;
                case 11: reader.ReadRepeatedVarint(wireType, uint64s, "uint64_data"); break;
                case 13: reader.Skip(wireType, field); external = true; break;
                case 14: reader.ExpectWireType(wireType, 0, "data_location"); external |= reader.ReadInt32("data_location") == 1; break;
                default: reader.Skip(wireType, field); break;
            }
        }
        string label = name.Length > 0 ? $"tensor '{name}'" : "tensor";
        if (external)
            throw new InvalidDataException($"ONNX file '{reader.FileName}': {reader.Path}: {label} keeps its data in an external file, which is not supported; save the model with its weights inside the .onnx file.");
        if (dims.Any(d => d < 0))
            throw reader.Corrupt($"dims of {label} ({string.Join(", ", dims)})");
        // The product is checked before anything is allocated: dims such as [2^40, 2^40] describe no tensor a file can hold.
        long count = ElementCountOrThrow(dims, reader, label);
        float[]? floatValues = null;
        long[]? intValues = null;
        switch (dataType)
        {
            case OnnxDataType.Float when raw is { } f && BitConverter.IsLittleEndian:
                CheckRawLength(f, 4, count, reader, label);
                floatValues = MemoryMarshal.Cast<byte, float>(f.Span).ToArray();
                break;
            case OnnxDataType.Float:
                floatValues = raw is { } fb ? Decode<float>(fb, 4, count, (s, i) => BinaryPrimitives.ReadSingleLittleEndian(s[(4 * i)..]), reader, label) : floats.ToArray();
                break;
            case OnnxDataType.Double:
                floatValues = raw is { } d ? Decode<float>(d, 8, count, (s, i) => (float)BinaryPrimitives.ReadDoubleLittleEndian(s[(8 * i)..]), reader, label) : doubles.Select(v => (float)v).ToArray();
                break;
            case OnnxDataType.Float16:
                floatValues = raw is { } h
                    ? Decode<float>(h, 2, count, (s, i) => (float)BinaryPrimitives.ReadHalfLittleEndian(s[(2 * i)..]), reader, label)
                    : int32s.Select(v => (float)BitConverter.UInt16BitsToHalf((ushort)v)).ToArray();
                break;
            case OnnxDataType.BFloat16:
                floatValues = raw is { } b
                    ? Decode<float>(b, 2, count, (s, i) => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(s[(2 * i)..]) << 16), reader, label)
                    : int32s.Select(v => BitConverter.Int32BitsToSingle((int)(v & 0xFFFF) << 16)).ToArray();
                break;
            case OnnxDataType.Int64:
                intValues = raw is { } l ? Decode<long>(l, 8, count, (s, i) => BinaryPrimitives.ReadInt64LittleEndian(s[(8 * i)..]), reader, label) : int64s.ToArray();
                break;
            case OnnxDataType.Int32:
                intValues = raw is { } i32 ? Decode<long>(i32, 4, count, (s, i) => BinaryPrimitives.ReadInt32LittleEndian(s[(4 * i)..]), reader, label) : int32s.Select(v => (long)(int)v).ToArray();
                break;
            case OnnxDataType.UInt32:
                intValues = raw is { } u32 ? Decode<long>(u32, 4, count, (s, i) => BinaryPrimitives.ReadUInt32LittleEndian(s[(4 * i)..]), reader, label) : uint64s.ToArray();
                break;
            case OnnxDataType.Int16:
                intValues = raw is { } i16 ? Decode<long>(i16, 2, count, (s, i) => BinaryPrimitives.ReadInt16LittleEndian(s[(2 * i)..]), reader, label) : int32s.ToArray();
                break;
            case OnnxDataType.UInt16:
                intValues = raw is { } u16 ? Decode<long>(u16, 2, count, (s, i) => BinaryPrimitives.ReadUInt16LittleEndian(s[(2 * i)..]), reader, label) : int32s.ToArray();
                break;
            case OnnxDataType.Int8:
                intValues = raw is { } i8 ? Decode<long>(i8, 1, count, (s, i) => (sbyte)s[i], reader, label) : int32s.ToArray();
                break;
            case OnnxDataType.UInt8:
            case OnnxDataType.Bool:
                intValues = raw is { } u8 ? Decode<long>(u8, 1, count, (s, i) => s[i], reader, label) : int32s.ToArray();
                break;
            default:
                throw new InvalidDataException($"ONNX file '{reader.FileName}': {reader.Path}: {label} has data type {DescribeType(dataType)}, which is not supported.");
        }
        long actual = floatValues?.LongLength ?? intValues!.LongLength;
        if (actual != count)
            throw new InvalidDataException($"ONNX file '{reader.FileName}': {reader.Path}: {label} has {actual} values but its dims [{string.Join(", ", dims)}] need {count}.");
        return new OnnxTensor(name, dims.ToArray(), dataType, floatValues, intValues);
    }

    // A weight array is a .NET array: at most Array.MaxLength elements, whatever the dims say.
    private static long ElementCountOrThrow(List<long> dims, ProtobufReader reader, string label)
    {
        if (dims.Count > Weights.TensorBytes.MaxRank || Weights.TensorBytes.ElementCount(dims) is not long count || count > Array.MaxLength)
            throw new InvalidDataException($"ONNX file '{reader.FileName}': {reader.Path}: {label} has dims [{string.Join(", ", dims)}], which describe more elements than a tensor can hold.");
        return count;
    }

    private static string DescribeType(OnnxDataType type) =>
        Enum.IsDefined(type) && type != OnnxDataType.Undefined ? $"{type} ({(int)type})" : $"{(int)type}";

    private delegate T Element<T>(ReadOnlySpan<byte> bytes, int index);

    private static T[] Decode<T>(ReadOnlyMemory<byte> raw, int size, long count, Element<T> read, ProtobufReader reader, string label)
    {
        CheckRawLength(raw, size, count, reader, label);
        var values = new T[count];
        var span = raw.Span;
        for (int i = 0; i < values.Length; i++)
            values[i] = read(span, i);
        return values;
    }

    private static void CheckRawLength(ReadOnlyMemory<byte> raw, int size, long count, ProtobufReader reader, string label)
    {
        // count fits Array.MaxLength, so count × size (at most 8) cannot overflow.
        if (raw.Length != count * size)
            throw new InvalidDataException($"ONNX file '{reader.FileName}': {reader.Path}: raw_data of {label} has {raw.Length} bytes but its dims need {count} × {size}.");
    }
}
