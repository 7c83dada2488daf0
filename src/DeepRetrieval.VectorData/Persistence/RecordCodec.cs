using DeepRetrieval.VectorData.Storage;

namespace DeepRetrieval.VectorData.Persistence;

/// <summary>
/// The binary encoding of schemas, rows and write batches (little-endian, lengths as 7-bit counts, strings as UTF-8). Values
/// carry no type tags: the schema says what each column holds. A sharded collection can persist the same batches through
/// any storage; decoding treats the bytes as hostile and throws <see cref="InvalidDataException"/>.
/// </summary>
public static class RecordCodec
{
    /// <summary>The log entry kind of an upsert batch.</summary>
    public const byte UpsertEntry = 1;

    /// <summary>The log entry kind of a delete batch.</summary>
    public const byte DeleteEntry = 2;

    private const int MaxColumns = 4096;

    /// <summary>Encodes a schema.</summary>
    /// <param name="schema">The schema.</param>
    public static byte[] EncodeSchema(RecordSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var writer = new ByteWriter();
        WriteSchema(writer, schema);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes a schema.</summary>
    /// <param name="bytes">Bytes from <see cref="EncodeSchema"/>.</param>
    public static RecordSchema DecodeSchema(ReadOnlySpan<byte> bytes)
    {
        var reader = new ByteReader(bytes, "schema");
        RecordSchema schema = ReadSchema(ref reader);
        if (reader.Remaining != 0) throw reader.Corrupt($"{reader.Remaining} bytes follow the schema");
        return schema;
    }

    /// <summary>Encodes an upsert batch as a log entry payload.</summary>
    /// <param name="schema">The schema of the rows.</param>
    /// <param name="batch">The batch.</param>
    public static byte[] EncodeUpsert(RecordSchema schema, UpsertBatch batch)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(batch);
        var writer = new ByteWriter();
        writer.WriteByte(UpsertEntry);
        writer.WriteCount(batch.Rows.Count);
        for (int i = 0; i < batch.Rows.Count; i++)
        {
            writer.WriteInt64(batch.Ids[i]);
            WriteRow(writer, schema, batch.Rows[i]);
        }
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Encodes a delete batch (internal ids) as a log entry payload.</summary>
    /// <param name="ids">The ids removed.</param>
    public static byte[] EncodeDelete(IReadOnlyList<long> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var writer = new ByteWriter();
        writer.WriteByte(DeleteEntry);
        writer.WriteCount(ids.Count);
        foreach (long id in ids) writer.WriteInt64(id);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes a log entry payload into either an upsert batch or the ids of a delete.</summary>
    /// <param name="schema">The schema of the rows.</param>
    /// <param name="payload">The payload.</param>
    /// <param name="upsert">The upsert batch, when the entry is one.</param>
    /// <param name="deletedIds">The deleted ids, when the entry is a delete.</param>
    public static void DecodeEntry(RecordSchema schema, ReadOnlySpan<byte> payload, out UpsertBatch? upsert, out long[]? deletedIds)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var reader = new ByteReader(payload, "log entry");
        upsert = null;
        deletedIds = null;
        byte kind = reader.ReadByte();
        if (kind == UpsertEntry)
        {
            int count = reader.ReadCount(8);
            var ids = new long[count];
            var rows = new RecordRow[count];
            for (int i = 0; i < count; i++)
            {
                ids[i] = reader.ReadInt64();
                if (ids[i] < 0) throw reader.Corrupt($"record id {ids[i]} is negative");
                rows[i] = ReadRow(ref reader, schema);
            }
            upsert = UpsertBatch.FromLog(ids, rows);
        }
        else if (kind == DeleteEntry)
        {
            int count = reader.ReadCount(8);
            deletedIds = new long[count];
            for (int i = 0; i < count; i++) deletedIds[i] = reader.ReadInt64();
        }
        else
        {
            throw reader.Corrupt($"unknown entry kind {kind}");
        }
        if (reader.Remaining != 0) throw reader.Corrupt($"{reader.Remaining} bytes follow the entry");
    }

    /// <summary>Encodes one row with its id (a snapshot frame).</summary>
    /// <param name="schema">The schema.</param>
    /// <param name="id">The row's id.</param>
    /// <param name="row">The row.</param>
    public static byte[] EncodeRow(RecordSchema schema, long id, RecordRow row)
    {
        var writer = new ByteWriter();
        WriteIdentifiedRow(writer, schema, id, row);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes one row with its id.</summary>
    /// <param name="schema">The schema.</param>
    /// <param name="bytes">Bytes from <see cref="EncodeRow"/>.</param>
    public static (long Id, RecordRow Row) DecodeRow(RecordSchema schema, ReadOnlySpan<byte> bytes)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var reader = new ByteReader(bytes, "snapshot row");
        long id = reader.ReadInt64();
        if (id < 0) throw reader.Corrupt($"record id {id} is negative");
        RecordRow row = ReadRow(ref reader, schema);
        if (reader.Remaining != 0) throw reader.Corrupt($"{reader.Remaining} bytes follow the row");
        return (id, row);
    }

    internal static void WriteIdentifiedRow(ByteWriter writer, RecordSchema schema, long id, RecordRow row)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(row);
        writer.WriteInt64(id);
        WriteRow(writer, schema, row);
    }

    private static void WriteSchema(ByteWriter writer, RecordSchema schema)
    {
        writer.WriteString(schema.Key.Name);
        writer.WriteByte((byte)schema.Key.Kind);
        writer.WriteByte(schema.Key.IsAutoGenerated ? (byte)1 : (byte)0);
        writer.WriteCount(schema.Data.Count);
        foreach (DataColumn column in schema.Data)
        {
            writer.WriteString(column.Name);
            writer.WriteByte((byte)column.Type.Scalar);
            writer.WriteByte((byte)column.Type.Collection);
            writer.WriteByte((byte)((column.Type.IsNullable ? 1 : 0) | (column.IsIndexed ? 2 : 0) | (column.IsFullTextIndexed ? 4 : 0)));
        }
        writer.WriteCount(schema.Vectors.Count);
        foreach (VectorColumn column in schema.Vectors)
        {
            writer.WriteString(column.Name);
            writer.WriteInt32(column.Dimension);
            writer.WriteString(column.DistanceFunction);
            writer.WriteString(column.IndexKind);
        }
    }

    private static RecordSchema ReadSchema(ref ByteReader reader)
    {
        string keyName = reader.ReadString();
        var keyKind = (ScalarKind)reader.ReadByte();
        bool autoGenerated = reader.ReadByte() != 0;
        int dataCount = reader.ReadCount(4);
        if (dataCount > MaxColumns) throw reader.Corrupt($"{dataCount} data columns");
        var data = new DataColumn[dataCount];
        for (int i = 0; i < dataCount; i++)
        {
            string name = reader.ReadString();
            var scalar = (ScalarKind)reader.ReadByte();
            var collection = (CollectionKind)reader.ReadByte();
            byte flags = reader.ReadByte();
            data[i] = new DataColumn(name, new ColumnType(scalar, collection, (flags & 1) != 0), (flags & 2) != 0, (flags & 4) != 0);
        }
        int vectorCount = reader.ReadCount(7);
        if (vectorCount > MaxColumns) throw reader.Corrupt($"{vectorCount} vector columns");
        var vectors = new VectorColumn[vectorCount];
        for (int i = 0; i < vectorCount; i++)
            vectors[i] = new VectorColumn(reader.ReadString(), reader.ReadInt32(), reader.ReadString(), reader.ReadString());
        try
        {
            return new RecordSchema(new KeyColumn(keyName, keyKind, autoGenerated), data, vectors);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"Corrupt schema: {e.Message}", e);
        }
    }

    private static void WriteRow(ByteWriter writer, RecordSchema schema, RecordRow row)
    {
        WriteScalar(writer, schema.Key.Kind, row.Key);
        for (int d = 0; d < schema.Data.Count; d++)
        {
            ColumnType type = schema.Data[d].Type;
            object? value = row.Values[d];
            if (type.IsNullable) writer.WriteByte(value is null ? (byte)0 : (byte)1);
            if (value is null) continue;
            if (type.Collection == CollectionKind.None)
            {
                WriteScalar(writer, type.Scalar, value);
                continue;
            }
            var array = (Array)value;
            writer.WriteCount(array.Length);
            foreach (object? element in array)
            {
                if (type.Scalar == ScalarKind.String) writer.WriteByte(element is null ? (byte)0 : (byte)1);
                if (element is not null) WriteScalar(writer, type.Scalar, element);
            }
        }
        for (int c = 0; c < schema.Vectors.Count; c++)
        {
            float[]? vector = row.Vectors[c];
            writer.WriteByte(vector is null ? (byte)0 : (byte)1);
            if (vector is not null) writer.WriteFloats(vector);
        }
    }

    private static RecordRow ReadRow(ref ByteReader reader, RecordSchema schema)
    {
        object key = ReadScalar(ref reader, schema.Key.Kind);
        var values = new object?[schema.Data.Count];
        for (int d = 0; d < values.Length; d++)
        {
            ColumnType type = schema.Data[d].Type;
            if (type.IsNullable && ReadFlag(ref reader)) continue;
            if (type.Collection == CollectionKind.None)
            {
                values[d] = ReadScalar(ref reader, type.Scalar);
                continue;
            }
            int count = reader.ReadCount(1);
            Array array = Array.CreateInstance(type.ElementClrType, count);
            for (int i = 0; i < count; i++)
            {
                if (type.Scalar == ScalarKind.String && ReadFlag(ref reader)) continue;
                array.SetValue(ReadScalar(ref reader, type.Scalar), i);
            }
            values[d] = array;
        }
        var vectors = new float[]?[schema.Vectors.Count];
        for (int c = 0; c < vectors.Length; c++)
        {
            if (ReadFlag(ref reader)) continue;
            float[] vector = reader.ReadFloats();
            if (vector.Length != schema.Vectors[c].Dimension)
                throw reader.Corrupt($"a vector of column '{schema.Vectors[c].Name}' has {vector.Length} components, not {schema.Vectors[c].Dimension}");
            vectors[c] = vector;
        }
        return new RecordRow(key, values, vectors);
    }

    // True when the presence flag says the value is absent.
    private static bool ReadFlag(ref ByteReader reader) => reader.ReadByte() switch
    {
        0 => true,
        1 => false,
        var b => throw reader.Corrupt($"presence flag {b} is neither 0 nor 1"),
    };

    private static void WriteScalar(ByteWriter writer, ScalarKind kind, object value)
    {
        switch (kind)
        {
            case ScalarKind.Boolean: writer.WriteByte((bool)value ? (byte)1 : (byte)0); break;
            case ScalarKind.Byte: writer.WriteByte((byte)value); break;
            case ScalarKind.Int16: writer.WriteInt16((short)value); break;
            case ScalarKind.Int32: writer.WriteInt32((int)value); break;
            case ScalarKind.Int64: writer.WriteInt64((long)value); break;
            case ScalarKind.UInt64: writer.WriteUInt64((ulong)value); break;
            case ScalarKind.Single: writer.WriteSingle((float)value); break;
            case ScalarKind.Double: writer.WriteDouble((double)value); break;
            case ScalarKind.Decimal:
                Span<int> bits = stackalloc int[4];
                decimal.GetBits((decimal)value, bits);
                foreach (int part in bits) writer.WriteInt32(part);
                break;
            case ScalarKind.String: writer.WriteString((string)value); break;
            case ScalarKind.Guid:
                Span<byte> guid = stackalloc byte[16];
                ((Guid)value).TryWriteBytes(guid);
                writer.WriteBytes(guid);
                break;
            case ScalarKind.DateTime:
                var dateTime = (DateTime)value; // ticks and kind, not ToBinary's local-time conversion
                writer.WriteInt64((long)dateTime.Kind << 62 | dateTime.Ticks);
                break;
            case ScalarKind.DateTimeOffset:
                var dto = (DateTimeOffset)value;
                writer.WriteInt64(dto.Ticks);
                writer.WriteInt16((short)dto.TotalOffsetMinutes);
                break;
            case ScalarKind.DateOnly: writer.WriteInt32(((DateOnly)value).DayNumber); break;
            case ScalarKind.TimeOnly: writer.WriteInt64(((TimeOnly)value).Ticks); break;
            default: throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown scalar kind.");
        }
    }

    private static object ReadScalar(ref ByteReader reader, ScalarKind kind)
    {
        try
        {
            switch (kind)
            {
                case ScalarKind.Boolean:
                    return reader.ReadByte() switch { 0 => false, 1 => true, var b => throw reader.Corrupt($"bool value {b}") };
                case ScalarKind.Byte: return reader.ReadByte();
                case ScalarKind.Int16: return reader.ReadInt16();
                case ScalarKind.Int32: return reader.ReadInt32();
                case ScalarKind.Int64: return reader.ReadInt64();
                case ScalarKind.UInt64: return reader.ReadUInt64();
                case ScalarKind.Single: return reader.ReadSingle();
                case ScalarKind.Double: return reader.ReadDouble();
                case ScalarKind.Decimal:
                    Span<int> bits = [reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32()];
                    return new decimal(bits);
                case ScalarKind.String: return reader.ReadString();
                case ScalarKind.Guid: return new Guid(reader.ReadBytes(16));
                case ScalarKind.DateTime:
                    long packed = reader.ReadInt64();
                    var dateKind = (DateTimeKind)((ulong)packed >> 62);
                    if (!Enum.IsDefined(dateKind)) throw reader.Corrupt($"DateTime kind {(int)dateKind}");
                    return new DateTime(packed & 0x3FFF_FFFF_FFFF_FFFF, dateKind);
                case ScalarKind.DateTimeOffset:
                    long ticks = reader.ReadInt64();
                    return new DateTimeOffset(ticks, TimeSpan.FromMinutes(reader.ReadInt16()));
                case ScalarKind.DateOnly: return DateOnly.FromDayNumber(reader.ReadInt32());
                case ScalarKind.TimeOnly: return new TimeOnly(reader.ReadInt64());
                default: throw reader.Corrupt($"unknown scalar kind {kind}");
            }
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"Corrupt record value of kind {kind}: {e.Message}", e);
        }
    }
}
