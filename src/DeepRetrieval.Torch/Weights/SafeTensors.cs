using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Weights;

/// <summary>
/// Reads and writes the safetensors format of Hugging Face (<c>*.safetensors</c>): an 8-byte little-endian header length, a
/// UTF-8 JSON header <c>{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}</c>
/// and one byte buffer holding every tensor, row-major and little-endian, in offset order. Element types F64, F32, F16, BF16,
/// I64, I32, I16, I8, U8 and BOOL. The whole header is validated before any tensor is allocated (header length against the
/// file length, well-formed JSON, duplicate names, dtype, shape × element size = byte count, offsets inside the buffer,
/// tensors contiguous and non-overlapping), so a corrupt or hostile file gives an <see cref="InvalidDataException"/> naming
/// the file and the tensor rather than a huge allocation or a wrong tensor. Writing goes to a temporary file that is renamed
/// over the target, so a crash never leaves a half-written file under the real name.
/// </summary>
public static class SafeTensors
{
    /// <summary>The key of the optional string-to-string metadata map in the header.</summary>
    public const string MetadataKey = "__metadata__";

    // The reference implementation refuses headers above 100 MB; a larger one is corrupt, not a big model.
    private const long MaxHeaderLength = 100_000_000;

    // The JSON reader validates UTF-8 only lazily (a bad property name throws InvalidOperationException when read).
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Reads every tensor of a safetensors file into new CPU tensors, in the order of their data offsets.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The tensors by name and the metadata map (empty when the file has none).</returns>
    /// <exception cref="InvalidDataException">The file is not valid safetensors; the message names the file and, where it applies, the tensor.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static SafeTensorsContent Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var header = ParseHeader(stream, path);
        var tensors = new OrderedDictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var entry in header.Entries)
            {
                stream.Position = header.DataStart + entry.Begin;
                tensors.Add(entry.Name, TensorBytes.Read(stream, entry.Shape, entry.Type, path, entry.Name));
            }
        }
        catch
        {
            foreach (var tensor in tensors.Values) tensor.Dispose();
            throw;
        }
        return new SafeTensorsContent(tensors, header.Metadata);
    }

    /// <summary>Reads only the header: tensor names, types and shapes, and the metadata map, without loading any data.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="InvalidDataException">The header is not valid safetensors.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static SafeTensorsHeader ReadHeader(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var header = ParseHeader(stream, path);
        return new SafeTensorsHeader(header.Entries.Select(e => new SafeTensorsEntry(e.Name, e.Type, e.Shape)).ToArray(), header.Metadata);
    }

    /// <summary>
    /// Writes tensors (moved to the CPU and made contiguous as needed) and an optional metadata map to a safetensors file,
    /// atomically: the data goes to a temporary file next to <paramref name="path"/> that then replaces it.
    /// </summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="tensors">Tensors by name, written in this order.</param>
    /// <param name="metadata">Optional string-to-string metadata stored under <see cref="MetadataKey"/>.</param>
    /// <exception cref="ArgumentException">A name is empty, repeated or equal to <see cref="MetadataKey"/>, or a tensor's element type has no safetensors code.</exception>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var items = tensors.ToArray();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in items)
        {
            if (string.IsNullOrEmpty(name) || name == MetadataKey)
                throw new ArgumentException($"'{name}' cannot be a tensor name in a safetensors file.", nameof(tensors));
            if (!names.Add(name))
                throw new ArgumentException($"The tensor name '{name}' appears twice.", nameof(tensors));
            ArgumentNullException.ThrowIfNull(tensor, name);
            if (TensorBytes.SafeTensorsCode(tensor.dtype) is null)
                throw new ArgumentException($"Tensor '{name}' has element type {tensor.dtype}, which safetensors cannot store.", nameof(tensors));
        }

        byte[] header = BuildHeader(items, metadata);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var file = new AtomicFile(path);
        Span<byte> length = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        file.Stream.Write(length);
        file.Stream.Write(header);
        foreach (var (_, tensor) in items)
            TensorBytes.Write(file.Stream, tensor);
        file.Commit();
    }

    private static byte[] BuildHeader(KeyValuePair<string, Tensor>[] items, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata)
                    json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, tensor) in items)
            {
                long bytes = tensor.numel() * TensorBytes.ElementSize(tensor.dtype);
                json.WriteStartObject(name);
                json.WriteString("dtype", TensorBytes.SafeTensorsCode(tensor.dtype));
                json.WriteStartArray("shape");
                foreach (long d in tensor.shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }
        // Padded with spaces to a multiple of 8 bytes, as the reference writer does, so the buffer starts aligned.
        int padded = (int)((buffer.Length + 7) / 8 * 8);
        while (buffer.Length < padded) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    private static ParsedHeader ParseHeader(FileStream stream, string path)
    {
        long fileLength = stream.Length;
        if (fileLength < 8)
            throw new InvalidDataException($"{path}: {fileLength} bytes is too short for a safetensors file (an 8-byte header length comes first).");
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        ulong headerLength = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > (ulong)(fileLength - 8) || headerLength > MaxHeaderLength)
            throw new InvalidDataException($"{path}: the header length {headerLength} does not fit the file ({fileLength} bytes); the file is not safetensors or is truncated.");
        if (headerLength < 2)
            throw new InvalidDataException($"{path}: the header length {headerLength} is too short for a JSON object.");
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        long dataStart = 8 + (long)headerLength;
        long bufferLength = fileLength - dataStart;

        try
        {
            StrictUtf8.GetCharCount(headerBytes);
        }
        catch (DecoderFallbackException)
        {
            throw new InvalidDataException($"{path}: the safetensors header is not valid UTF-8.");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(headerBytes);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: the safetensors header is not well-formed JSON ({e.Message}).", e);
        }
        using (document)
        {
            try
            {
                return ReadHeaderObject(document, bufferLength, dataStart, path);
            }
            catch (InvalidOperationException e)
            {
                // Well-formed JSON can still escape a lone UTF-16 surrogate ("\udd00"), which the reader only rejects when
                // the string is unescaped (a name, a dtype, a metadata value). Found by the fuzzer (issue 16).
                throw new InvalidDataException($"{path}: the safetensors header holds a string that is not valid UTF-16 ({e.Message}).", e);
            }
        }
    }

    private static ParsedHeader ReadHeaderObject(JsonDocument document, long bufferLength, long dataStart, string path)
    {
        if (document.RootElement.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: the safetensors header must be a JSON object.");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var entries = new List<ParsedEntry>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (!seen.Add(property.Name))
                throw new InvalidDataException($"{path}: the header names '{property.Name}' twice.");
            if (property.Name == MetadataKey)
            {
                ReadMetadata(property.Value, metadata, path);
                continue;
            }
            entries.Add(ReadEntry(property, bufferLength, path));
        }
        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long expected = 0;
        foreach (var entry in entries)
        {
            if (entry.Begin != expected)
                throw new InvalidDataException(entry.Begin < expected
                    ? $"{path}: tensor '{entry.Name}' overlaps the previous tensor's bytes (starts at {entry.Begin}, previous ends at {expected})."
                    : $"{path}: there is a gap of {entry.Begin - expected} bytes before tensor '{entry.Name}'; tensors must be contiguous.");
            expected = entry.End;
        }
        if (expected != bufferLength)
            throw new InvalidDataException($"{path}: the tensors cover {expected} bytes but the data buffer has {bufferLength}.");
        return new ParsedHeader(entries, metadata, dataStart);
    }

    private static void ReadMetadata(JsonElement element, Dictionary<string, string> metadata, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: '{MetadataKey}' must be an object of strings.");
        foreach (var item in element.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw new InvalidDataException($"{path}: metadata value '{item.Name}' is not a string.");
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
                throw new InvalidDataException($"{path}: metadata key '{item.Name}' appears twice.");
        }
    }

    private static ParsedEntry ReadEntry(JsonProperty property, long bufferLength, string path)
    {
        string name = property.Name;
        var value = property.Value;
        InvalidDataException Bad(string what) => new($"{path}: tensor '{name}': {what}.");
        if (value.ValueKind != JsonValueKind.Object)
            throw Bad("the entry must be an object with dtype, shape and data_offsets");
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Bad("dtype is missing or not a string");
        string code = dtypeElement.GetString()!;
        var type = TensorBytes.FromSafeTensorsCode(code) ?? throw Bad($"dtype '{code}' is not supported (F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)");
        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw Bad("shape is missing or not an array");
        var shape = new long[shapeElement.GetArrayLength()];
        int i = 0;
        foreach (var d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long size) || size < 0)
                throw Bad("shape must hold non-negative integers");
            shape[i++] = size;
        }
        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw Bad("data_offsets must be an array [begin, end]");
        if (offsets[0].ValueKind != JsonValueKind.Number || offsets[1].ValueKind != JsonValueKind.Number
            || !offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end) || begin < 0 || end < begin)
            throw Bad("data_offsets must be integers with 0 <= begin <= end");
        if (end > bufferLength)
            throw Bad($"data_offsets [{begin}, {end}] run past the end of the data buffer ({bufferLength} bytes)");
        long? count = TensorBytes.ElementCount(shape);
        long? bytes = count is long c && c <= long.MaxValue / 8 ? c * TensorBytes.ElementSize(type) : null;
        if (bytes != end - begin)
            throw Bad($"shape [{string.Join(", ", shape)}] of {code} needs {(bytes is long b ? b.ToString() : "too many")} bytes but data_offsets give {end - begin}");
        return new ParsedEntry(name, type, shape, begin, end);
    }

    private sealed record ParsedEntry(string Name, ScalarType Type, long[] Shape, long Begin, long End);

    private sealed record ParsedHeader(List<ParsedEntry> Entries, Dictionary<string, string> Metadata, long DataStart);
}
