using System.Security.Cryptography;
using System.Text;

namespace DeepRetrieval.OnnxRuntime.Models;

/// <summary>Reading model files and preparing the bytes ONNX Runtime loads.</summary>
internal static class OnnxModelFile
{
    // protobuf refuses messages of 2 GB and more; larger models keep their weights in external data files.
    private const long MaxModelBytes = int.MaxValue;

    /// <summary>Reads the whole file after checking that it exists, is not empty and fits a protobuf message.</summary>
    public static byte[] ReadBytes(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var info = new FileInfo(path);
        if (!info.Exists)
            throw new FileNotFoundException($"The ONNX model '{path}' does not exist.", path);
        if (info.Length == 0)
            throw new InvalidDataException($"'{path}' is not an ONNX model: the file is empty.");
        if (info.Length > MaxModelBytes)
            throw new InvalidDataException($"'{path}' is {info.Length} bytes; an ONNX model file holds at most 2 GB (larger models keep weights in external data files).");
        return File.ReadAllBytes(path);
    }

    /// <summary>Lowercase hexadecimal SHA-256 of the bytes.</summary>
    public static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>
    /// The model with <paramref name="names"/> added as graph outputs. Protobuf merges a message field that occurs twice, so
    /// appending a second <c>ModelProto.graph</c> holding only <c>output</c> entries adds them to the existing graph without
    /// re-encoding the file; ONNX Runtime infers their types and shapes.
    /// </summary>
    public static byte[] WithExtraOutputs(byte[] model, IReadOnlyList<string> names)
    {
        using var graph = new MemoryStream();
        foreach (string name in names)
        {
            using var valueInfo = new MemoryStream();
            WriteLengthDelimited(valueInfo, 1, Encoding.UTF8.GetBytes(name));   // ValueInfoProto.name
            WriteLengthDelimited(graph, 12, valueInfo.ToArray());              // GraphProto.output
        }
        using var result = new MemoryStream(model.Length + (int)graph.Length + 16);
        result.Write(model);
        WriteLengthDelimited(result, 7, graph.ToArray());                      // ModelProto.graph
        return result.ToArray();
    }

    private static void WriteLengthDelimited(Stream stream, int field, ReadOnlySpan<byte> payload)
    {
        WriteVarint(stream, (ulong)field << 3 | 2);
        WriteVarint(stream, (ulong)payload.Length);
        stream.Write(payload);
    }

    private static void WriteVarint(Stream stream, ulong value)
    {
        while (value >= 0x80)
        {
            stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        stream.WriteByte((byte)value);
    }
}
