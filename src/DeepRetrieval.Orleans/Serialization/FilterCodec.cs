using System.Text;
using DeepRetrieval.VectorData.Filtering;
using DeepRetrieval.VectorData.Storage;

namespace DeepRetrieval.Orleans.Serialization;

/// <summary>
/// The wire form of a <see cref="FilterNode"/>: the router ships one filter to every shard, and each shard compiles it against
/// its rows with <see cref="FilterCompiler"/>. Constants carry their scalar kind, so a shard sees exactly the values the
/// application's expression held. Decoding bounds the nesting depth and every length.
/// </summary>
public static class FilterCodec
{
    /// <summary>The deepest filter tree accepted (a chain of 1,000 <c>&amp;&amp;</c> or <c>||</c> is 1,000 deep).</summary>
    public const int MaxDepth = 2048;

    private const byte ConstantTag = 1, AndTag = 2, OrTag = 3, NotTag = 4, ComparisonTag = 5, ContainsTag = 6, InTag = 7, AnyInTag = 8;
    private const byte NullValue = 0;

    /// <summary>Encodes a filter.</summary>
    /// <param name="filter">The filter.</param>
    /// <exception cref="NotSupportedException">A constant is not one of the stored scalar kinds.</exception>
    public static byte[] Encode(FilterNode filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true)) Write(writer, filter, 0);
        return stream.ToArray();
    }

    /// <summary>Decodes a filter.</summary>
    /// <param name="bytes">Bytes from <see cref="Encode"/>.</param>
    /// <exception cref="InvalidDataException">The bytes are not a filter.</exception>
    public static FilterNode Decode(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        using var stream = new MemoryStream(bytes, writable: false);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            FilterNode node = Read(reader, 0);
            if (stream.Position != stream.Length) throw new InvalidDataException($"{stream.Length - stream.Position} bytes follow the filter.");
            return node;
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("The filter bytes end early.", e);
        }
    }

    private static void Write(BinaryWriter writer, FilterNode node, int depth)
    {
        if (depth > MaxDepth) throw new NotSupportedException($"The filter nests deeper than {MaxDepth} levels.");
        switch (node)
        {
            case ConstantFilter c:
                writer.Write(ConstantTag);
                writer.Write(c.Value);
                break;
            case AndFilter a:
                writer.Write(AndTag);
                Write(writer, a.Left, depth + 1);
                Write(writer, a.Right, depth + 1);
                break;
            case OrFilter o:
                writer.Write(OrTag);
                Write(writer, o.Left, depth + 1);
                Write(writer, o.Right, depth + 1);
                break;
            case NotFilter n:
                writer.Write(NotTag);
                Write(writer, n.Operand, depth + 1);
                break;
            case ComparisonFilter c:
                writer.Write(ComparisonTag);
                writer.Write(c.Column);
                writer.Write((byte)c.Operator);
                WriteValue(writer, c.Value);
                break;
            case ContainsFilter c:
                writer.Write(ContainsTag);
                writer.Write(c.Column);
                WriteValue(writer, c.Value);
                break;
            case InFilter i:
                writer.Write(InTag);
                writer.Write(i.Column);
                WriteValues(writer, i.Values);
                break;
            case AnyInFilter a:
                writer.Write(AnyInTag);
                writer.Write(a.Column);
                WriteValues(writer, a.Values);
                break;
            default:
                throw new NotSupportedException($"Filter node {node.GetType().Name} cannot be sent to shards.");
        }
    }

    private static FilterNode Read(BinaryReader reader, int depth)
    {
        if (depth > MaxDepth) throw new InvalidDataException($"The filter nests deeper than {MaxDepth} levels.");
        byte tag = reader.ReadByte();
        switch (tag)
        {
            case ConstantTag: return new ConstantFilter(reader.ReadBoolean());
            case AndTag: return new AndFilter(Read(reader, depth + 1), Read(reader, depth + 1));
            case OrTag: return new OrFilter(Read(reader, depth + 1), Read(reader, depth + 1));
            case NotTag: return new NotFilter(Read(reader, depth + 1));
            case ComparisonTag:
                string column = reader.ReadString();
                var op = (ComparisonOperator)reader.ReadByte();
                if (!Enum.IsDefined(op)) throw new InvalidDataException($"Unknown comparison operator {(byte)op}.");
                return new ComparisonFilter(column, op, ReadValue(reader));
            case ContainsTag: return new ContainsFilter(reader.ReadString(), ReadValue(reader));
            case InTag: return new InFilter(reader.ReadString(), ReadValues(reader));
            case AnyInTag: return new AnyInFilter(reader.ReadString(), ReadValues(reader));
            default: throw new InvalidDataException($"Unknown filter node tag {tag}.");
        }
    }

    private static void WriteValues(BinaryWriter writer, IReadOnlyList<object?> values)
    {
        writer.Write(values.Count);
        foreach (object? value in values) WriteValue(writer, value);
    }

    private static object?[] ReadValues(BinaryReader reader)
    {
        int count = reader.ReadInt32();
        // Every value takes at least its one-byte kind.
        if (count < 0 || count > reader.BaseStream.Length - reader.BaseStream.Position)
            throw new InvalidDataException($"A filter value list declares {count} values, more than its bytes hold.");
        var values = new object?[count];
        for (int i = 0; i < count; i++) values[i] = ReadValue(reader);
        return values;
    }

    private static void WriteValue(BinaryWriter writer, object? value)
    {
        if (value is null)
        {
            writer.Write(NullValue);
            return;
        }
        ScalarKind kind = ScalarValues.KindOf(value)
            ?? throw new NotSupportedException($"The filter constant {value} ({value.GetType().Name}) is not a stored scalar kind.");
        writer.Write((byte)kind);
        switch (value)
        {
            case bool b: writer.Write(b); break;
            case byte b: writer.Write(b); break;
            case short s: writer.Write(s); break;
            case int i: writer.Write(i); break;
            case long l: writer.Write(l); break;
            case ulong u: writer.Write(u); break;
            case float f: writer.Write(f); break;
            case double d: writer.Write(d); break;
            case decimal m: writer.Write(m); break;
            case string s: writer.Write(s); break;
            case Guid g: writer.Write(g.ToByteArray()); break;
            case DateTime t: writer.Write((long)t.Kind << 62 | t.Ticks); break; // ticks and kind, not ToBinary's local-time conversion
            case DateTimeOffset o:
                writer.Write(o.Ticks);
                writer.Write((short)o.TotalOffsetMinutes);
                break;
            case DateOnly d: writer.Write(d.DayNumber); break;
            case TimeOnly t: writer.Write(t.Ticks); break;
            default: throw new NotSupportedException($"The filter constant {value} ({value.GetType().Name}) is not a stored scalar kind.");
        }
    }

    private static object? ReadValue(BinaryReader reader)
    {
        var kind = (ScalarKind)reader.ReadByte();
        try
        {
            return kind switch
            {
                (ScalarKind)NullValue => null,
                ScalarKind.Boolean => reader.ReadBoolean(),
                ScalarKind.Byte => reader.ReadByte(),
                ScalarKind.Int16 => reader.ReadInt16(),
                ScalarKind.Int32 => reader.ReadInt32(),
                ScalarKind.Int64 => reader.ReadInt64(),
                ScalarKind.UInt64 => reader.ReadUInt64(),
                ScalarKind.Single => reader.ReadSingle(),
                ScalarKind.Double => reader.ReadDouble(),
                ScalarKind.Decimal => reader.ReadDecimal(),
                ScalarKind.String => reader.ReadString(),
                ScalarKind.Guid => new Guid(reader.ReadBytes(16) is { Length: 16 } g ? g : throw new EndOfStreamException()),
                ScalarKind.DateTime => ReadDateTime(reader.ReadInt64()),
                ScalarKind.DateTimeOffset => new DateTimeOffset(reader.ReadInt64(), TimeSpan.FromMinutes(reader.ReadInt16())),
                ScalarKind.DateOnly => DateOnly.FromDayNumber(reader.ReadInt32()),
                ScalarKind.TimeOnly => new TimeOnly(reader.ReadInt64()),
                _ => throw new InvalidDataException($"Unknown filter value kind {(byte)kind}."),
            };
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"A filter value of kind {kind} is out of range: {e.Message}", e);
        }
    }

    private static DateTime ReadDateTime(long packed)
    {
        var kind = (DateTimeKind)((ulong)packed >> 62);
        if (!Enum.IsDefined(kind)) throw new InvalidDataException($"DateTime kind {(int)kind} is unknown.");
        return new DateTime(packed & 0x3FFF_FFFF_FFFF_FFFF, kind);
    }
}
