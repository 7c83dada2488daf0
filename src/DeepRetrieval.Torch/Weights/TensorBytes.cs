using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Weights;

/// <summary>Element types of the weight formats and the copying of raw little-endian bytes into and out of tensors.</summary>
internal static class TensorBytes
{
    private static readonly (string Code, ScalarType Type)[] SafeTensorsTypes =
    [
        ("F64", ScalarType.Float64), ("F32", ScalarType.Float32), ("F16", ScalarType.Float16), ("BF16", ScalarType.BFloat16),
        ("I64", ScalarType.Int64), ("I32", ScalarType.Int32), ("I16", ScalarType.Int16), ("I8", ScalarType.Int8),
        ("U8", ScalarType.Byte), ("BOOL", ScalarType.Bool),
    ];

    /// <summary>The safetensors dtype code for <paramref name="type"/>, or null when the format has none we support.</summary>
    public static string? SafeTensorsCode(ScalarType type) =>
        Array.Find(SafeTensorsTypes, t => t.Type == type).Code;

    /// <summary>The tensor type of a safetensors dtype code, or null when unknown.</summary>
    public static ScalarType? FromSafeTensorsCode(string code)
    {
        foreach (var (c, t) in SafeTensorsTypes)
            if (c == code) return t;
        return null;
    }

    /// <summary>Bytes per element.</summary>
    public static int ElementSize(ScalarType type) => type switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        ScalarType.Int8 or ScalarType.Byte or ScalarType.Bool => 1,
        _ => throw new ArgumentException($"Element type {type} is not supported by the weight formats.", nameof(type)),
    };

    /// <summary>Most dimensions a stored tensor may have; libtorch's own kernels stop at 25, and no weight has more than 8.</summary>
    public const int MaxRank = 32;

    /// <summary>
    /// The element count of a shape, or null when the shape is unusable: a negative size, more than <see cref="MaxRank"/>
    /// dimensions, or sizes whose product overflows a long even when a zero-size dimension makes the count 0 (libtorch computes
    /// strides from the non-zero sizes and fails on such a shape).
    /// </summary>
    public static long? ElementCount(IReadOnlyList<long> shape)
    {
        if (shape.Count > MaxRank) return null;
        long count = 1, nonZeroProduct = 1;
        foreach (long d in shape)
        {
            if (d < 0) return null;
            try
            {
                count = checked(count * d);
                nonZeroProduct = checked(nonZeroProduct * Math.Max(d, 1));
            }
            catch (OverflowException)
            {
                return null;
            }
        }
        return count;
    }

    /// <summary>Fills a new contiguous CPU tensor from a stream, chunk by chunk so large tensors need no managed copy.</summary>
    public static Tensor Read(Stream stream, long[] shape, ScalarType type, string file, string tensorName)
    {
        CheckEndianness();
        // Sized from the shape before anything is allocated: a hostile shape must not reach libtorch's allocator.
        long? count = ElementCount(shape);
        if (count is not long elements || elements > int.MaxValue / ElementSize(type))
            throw new InvalidDataException($"{file}: tensor '{tensorName}' has shape [{string.Join(", ", shape)}]; tensors above 2 GiB (or with overflowing sizes) are not supported.");
        long total = elements * ElementSize(type);
        var tensor = empty(shape, type);
        if (total == 0) return tensor;
        try
        {
            stream.ReadExactly(tensor.bytes);
        }
        catch (EndOfStreamException)
        {
            tensor.Dispose();
            throw new InvalidDataException($"{file}: the data of tensor '{tensorName}' ends early ({total} bytes expected).");
        }
        return tensor;
    }

    /// <summary>Writes a tensor's elements in row-major order as little-endian bytes.</summary>
    public static void Write(Stream stream, Tensor tensor)
    {
        CheckEndianness();
        using var contiguous = tensor.detach().cpu().contiguous();
        if (contiguous.numel() == 0) return;
        stream.Write(contiguous.bytes);
    }

    private static void CheckEndianness()
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("Weight files are little-endian; big-endian machines are not supported.");
    }
}
