using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using DeepRetrieval.Distances;

namespace DeepRetrieval.Indexes;

/// <summary>
/// Row-major float vectors kept in the narrowest format that gives every one of them back bit for bit: one byte per
/// component while every value is an integer from 0 to 255 (image pixels), a half while every value is exactly a
/// <see cref="Half"/> (embeddings computed in fp16), four bytes otherwise. A vector that does not fit the current format
/// widens the whole store once; the store never narrows again. What callers read is always the exact floats.
/// </summary>
/// <remarks>Reads may run concurrently with each other; writes (and the widening they may cause) must not overlap anything.</remarks>
internal sealed class ExactRows(int dimension)
{
    /// <summary>How the components are stored.</summary>
    public enum Storage : byte
    {
        /// <summary>Integers 0..255, one byte each.</summary>
        Byte = 1,

        /// <summary>Exact halves, two bytes each.</summary>
        Half = 2,

        /// <summary>Floats.</summary>
        Single = 4,
    }

    private byte[] _bytes = [];
    private Half[] _halves = [];
    private float[] _floats = [];

    [ThreadStatic]
    private static float[]? t_scratch;

    public int Dimension { get; } = dimension;

    /// <summary>The current format (bytes until a vector needs more).</summary>
    public Storage Format { get; private set; } = Storage.Byte;

    /// <summary>Rows the arrays hold room for.</summary>
    public int Capacity { get; private set; }

    public long MemoryUsageBytes => (long)Capacity * Dimension * (int)Format;

    /// <summary>Grows the arrays to hold <paramref name="rows"/> rows (the current format's array only).</summary>
    public void Resize(int rows)
    {
        long length = (long)rows * Dimension;
        switch (Format)
        {
            case Storage.Byte: Array.Resize(ref _bytes, (int)length); break;
            case Storage.Half: Array.Resize(ref _halves, (int)length); break;
            default: Array.Resize(ref _floats, (int)length); break;
        }
        Capacity = rows;
    }

    /// <summary>Stores a vector at a row below <see cref="Capacity"/>, widening the store first when the vector needs it.</summary>
    public void Write(int row, ReadOnlySpan<float> vector, int rowsInUse)
    {
        Storage needed = FormatOf(vector);
        if (needed > Format) Widen(needed, rowsInUse);
        int at = row * Dimension;
        switch (Format)
        {
            case Storage.Byte:
                for (int j = 0; j < vector.Length; j++) _bytes[at + j] = (byte)vector[j];
                break;
            case Storage.Half:
                for (int j = 0; j < vector.Length; j++) _halves[at + j] = (Half)vector[j];
                break;
            default:
                vector.CopyTo(_floats.AsSpan(at, Dimension));
                break;
        }
    }

    /// <summary>The exact floats of a row: the stored span itself for floats, else decoded into <paramref name="scratch"/>.</summary>
    public ReadOnlySpan<float> Row(int row, Span<float> scratch)
    {
        int at = row * Dimension;
        switch (Format)
        {
            case Storage.Byte:
                Widen(_bytes.AsSpan(at, Dimension), scratch);
                return scratch[..Dimension];
            case Storage.Half:
                TensorPrimitives.ConvertToSingle(_halves.AsSpan(at, Dimension), scratch[..Dimension]);
                return scratch[..Dimension];
            default:
                return _floats.AsSpan(at, Dimension);
        }
    }

    /// <summary>The exact floats of a row, decoded into a per-thread buffer when they are not stored as floats.</summary>
    public ReadOnlySpan<float> Row(int row)
    {
        if (Format == Storage.Single) return _floats.AsSpan(row * Dimension, Dimension);
        float[] scratch = t_scratch is { } cached && cached.Length >= Dimension ? cached : t_scratch = new float[Dimension];
        return Row(row, scratch);
    }

    /// <summary>Asks for every cache line of a row, so several rows load at once (a hint: it never changes what is read).</summary>
    public unsafe void PrefetchRow(int row)
    {
        long bytes = (long)Dimension * (int)Format;
        Span<byte> all = Format switch
        {
            Storage.Byte => _bytes,
            Storage.Half => MemoryMarshal.AsBytes(_halves.AsSpan()),
            _ => MemoryMarshal.AsBytes(_floats.AsSpan()),
        };
        ref byte start = ref MemoryMarshal.GetReference(all);
        // The array is not pinned: if the GC moves it meanwhile, the hints go to stale addresses, which prefetches
        // tolerate (they never fault), and the reads that follow are ordinary managed reads.
        byte* first = (byte*)Unsafe.AsPointer(ref Unsafe.Add(ref start, (nint)(row * bytes)));
        for (long offset = 0; offset < bytes; offset += 64) Prefetch.Line(first + offset);
        Prefetch.Line(first + bytes - 1);
    }

    /// <summary>Removes rows as <see cref="RowIds.RemoveCompacting{T}"/> does, moving the last rows into the freed ones.</summary>
    public int RemoveCompacting(RowIds rows, ReadOnlySpan<long> ids) => Format switch
    {
        Storage.Byte => rows.RemoveCompacting(ids, _bytes, Dimension),
        Storage.Half => rows.RemoveCompacting(ids, _halves, Dimension),
        _ => rows.RemoveCompacting(ids, _floats, Dimension),
    };

    private static unsafe void Widen(ReadOnlySpan<byte> bytes, Span<float> destination)
    {
        int j = 0;
        if (Avx512F.IsSupported)
        {
            fixed (byte* source = bytes)
            fixed (float* target = destination)
            {
                for (; j + 16 <= bytes.Length; j += 16)
                    Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(source + j))).Store(target + j);
            }
        }
        for (; j < bytes.Length; j++) destination[j] = bytes[j];
    }

    // The narrowest format that reproduces every component bit for bit (−0 is not the byte 0, so it needs a half).
    private static Storage FormatOf(ReadOnlySpan<float> vector)
    {
        Storage needed = Storage.Byte;
        foreach (float x in vector)
        {
            if (needed == Storage.Byte && x >= 0f && x <= 255f && x == MathF.Floor(x) && !float.IsNegative(x)) continue;
            if (BitConverter.SingleToInt32Bits((float)(Half)x) != BitConverter.SingleToInt32Bits(x)) return Storage.Single;
            needed = Storage.Half;
        }
        return needed;
    }

    private void Widen(Storage format, int rowsInUse)
    {
        long length = (long)Capacity * Dimension;
        var scratch = new float[Dimension];
        if (format == Storage.Half)
        {
            var halves = new Half[length];
            for (int r = 0; r < rowsInUse; r++)
            {
                ReadOnlySpan<float> x = Row(r, scratch);
                for (int j = 0; j < Dimension; j++) halves[r * Dimension + j] = (Half)x[j];
            }
            _halves = halves;
        }
        else
        {
            var floats = new float[length];
            for (int r = 0; r < rowsInUse; r++) Row(r, scratch).CopyTo(floats.AsSpan(r * Dimension, Dimension));
            _floats = floats;
            _halves = [];
        }
        _bytes = [];
        Format = format;
    }
}
