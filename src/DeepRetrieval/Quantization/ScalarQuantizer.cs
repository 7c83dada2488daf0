using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Numerics.Tensors;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Quantization;

/// <summary>
/// Compresses each vector component independently (Faiss's <c>ScalarQuantizer</c> with the "uniform per
/// dimension" range): SQ8 and SQ4 learn each dimension's minimum <c>vmin</c> and range <c>vdiff = max − min</c>,
/// and <see cref="ScalarQuantizerType.Fp16"/> stores half-precision floats.
/// </summary>
/// <remarks>
/// <para>With <c>L</c> levels (256 for SQ8, 16 for SQ4) and <c>t = (x − vmin) / vdiff</c> clamped to [0, 1], the code is
/// <c>min(L − 1, ⌊t · L⌋)</c> and it decodes to the centre of its bin, <c>vmin + (code + 0.5) / L · vdiff</c>
/// (Faiss's half-step reconstruction, with bins of equal width so that both ends of the range get a full bin).
/// The reconstruction error of a component inside the trained range is therefore at most <c>vdiff / (2L)</c>.
/// Values outside the trained range are clamped to it. A dimension with zero range decodes to its constant value.</para>
/// <para>Fp16 saturates values beyond ±65504 (<see cref="Half.MaxValue"/>) instead of storing infinity.</para>
/// <para>The asymmetric distances compare a float query with a code without decoding it into a buffer; SQ8 and Fp16
/// widen 16 codes at a time into a 512-bit (or 8 into a 256-bit) register.</para>
/// <para>Thread safety: after training, encoding, decoding and distances may run concurrently.</para>
/// </remarks>
public sealed class ScalarQuantizer
{
    private const int MaxDimension = 1 << 20;

    // Decoded component j is _bias[j] + code · _scale[j], with _scale = vdiff / L and _bias = vmin + _scale / 2:
    // the form the distance kernels evaluate with one fused multiply-add per component.
    private float[] _min = [];
    private float[] _range = [];
    private float[] _bias = [];
    private float[] _scale = [];
    private Sq8IntegerL2? _integerL2;

    /// <summary>Creates an untrained quantizer (Fp16 is ready at once).</summary>
    /// <param name="dimension">Components per vector; positive.</param>
    /// <param name="type">The code format.</param>
    public ScalarQuantizer(int dimension, ScalarQuantizerType type)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dimension, MaxDimension);
        if (!Enum.IsDefined(type))
            throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown scalar quantizer type.");
        Dimension = dimension;
        Type = type;
        IsTrained = type == ScalarQuantizerType.Fp16;
    }

    /// <summary>Components per vector.</summary>
    public int Dimension { get; }

    /// <summary>The code format.</summary>
    public ScalarQuantizerType Type { get; }

    /// <summary>True once the per-dimension ranges are known (always true for Fp16).</summary>
    public bool IsTrained { get; private set; }

    /// <summary>Bytes per encoded vector: d for SQ8, ⌈d / 2⌉ for SQ4, 2d for Fp16.</summary>
    public int CodeSize => CodeSizeOf(Dimension, Type);

    /// <summary>The trained minimum of each dimension (empty before training and for Fp16).</summary>
    public ReadOnlySpan<float> Minimum => _min;

    /// <summary>The trained range (maximum − minimum) of each dimension (empty before training and for Fp16).</summary>
    public ReadOnlySpan<float> Range => _range;

    private int Levels => Type == ScalarQuantizerType.SQ8 ? 256 : 16;

    /// <summary>Learns each dimension's minimum and range from row-major training vectors; Fp16 only validates them.</summary>
    /// <param name="data">At least one whole row of finite values.</param>
    public void Train(ReadOnlySpan<float> data)
    {
        int rows = CheckRows(data, nameof(data));
        if (rows == 0) throw new ArgumentException("Training needs at least one vector.", nameof(data));
        if (Type == ScalarQuantizerType.Fp16) return;
        var min = data[..Dimension].ToArray();
        var max = data[..Dimension].ToArray();
        for (int r = 1; r < rows; r++)
        {
            ReadOnlySpan<float> row = data.Slice(r * Dimension, Dimension);
            TensorPrimitives.Min(min, row, min);
            TensorPrimitives.Max(max, row, max);
        }
        var range = new float[Dimension];
        // CheckRows bounds every value by √(float.MaxValue / (4d)), so max − min is finite.
        TensorPrimitives.Subtract(max, min, range);
        SetParameters(min, range);
    }

    /// <summary>Encodes row-major vectors into <see cref="CodeSize"/> bytes each.</summary>
    /// <param name="vectors">Whole rows of finite values.</param>
    /// <param name="codes">Receives rows × <see cref="CodeSize"/> bytes.</param>
    public void Encode(ReadOnlySpan<float> vectors, Span<byte> codes)
    {
        int rows = CheckRows(vectors, nameof(vectors));
        RequireTrained();
        long needed = (long)rows * CodeSize;
        if (codes.Length < needed)
            throw new ArgumentException($"The codes buffer must hold {needed} bytes for {rows} vectors; got {codes.Length}.", nameof(codes));
        for (int r = 0; r < rows; r++)
            EncodeRow(vectors.Slice(r * Dimension, Dimension), codes.Slice(r * CodeSize, CodeSize));
    }

    /// <summary>Decodes codes back into approximate vectors.</summary>
    /// <param name="codes">Whole codes of <see cref="CodeSize"/> bytes.</param>
    /// <param name="vectors">Receives one row of <see cref="Dimension"/> values per code.</param>
    public void Decode(ReadOnlySpan<byte> codes, Span<float> vectors)
    {
        RequireTrained();
        if (codes.Length % CodeSize != 0)
            throw new ArgumentException($"Expected whole codes of {CodeSize} bytes, but got {codes.Length} bytes.", nameof(codes));
        int rows = codes.Length / CodeSize;
        long needed = (long)rows * Dimension;
        if (vectors.Length < needed)
            throw new ArgumentException($"The vectors buffer must hold {needed} values for {rows} codes; got {vectors.Length}.", nameof(vectors));
        for (int r = 0; r < rows; r++)
            DecodeRow(codes.Slice(r * CodeSize, CodeSize), vectors.Slice(r * Dimension, Dimension));
    }

    /// <summary>The squared L2 distance between a float query and the vector a code decodes to.</summary>
    /// <param name="query"><see cref="Dimension"/> values.</param>
    /// <param name="code"><see cref="CodeSize"/> bytes.</param>
    public float SquaredL2(ReadOnlySpan<float> query, ReadOnlySpan<byte> code)
    {
        CheckPair(query, code);
        return SquaredL2Unchecked(query, code);
    }

    /// <summary>The inner product of a float query with the vector a code decodes to.</summary>
    /// <param name="query"><see cref="Dimension"/> values.</param>
    /// <param name="code"><see cref="CodeSize"/> bytes.</param>
    public float InnerProduct(ReadOnlySpan<float> query, ReadOnlySpan<byte> code)
    {
        CheckPair(query, code);
        return InnerProductUnchecked(query, code);
    }

    internal static int CodeSizeOf(int dimension, ScalarQuantizerType type) => type switch
    {
        ScalarQuantizerType.SQ8 => dimension,
        ScalarQuantizerType.SQ4 => (dimension + 1) / 2,
        _ => 2 * dimension,
    };

    // For callers that validated lengths and training already (the index's inner loop).
    internal float SquaredL2Unchecked(ReadOnlySpan<float> query, ReadOnlySpan<byte> code) => Type switch
    {
        ScalarQuantizerType.SQ8 => Sq8Distance(query, code, l2: true),
        ScalarQuantizerType.SQ4 => Sq4Distance(query, code, l2: true),
        _ => Fp16Distance(query, code, l2: true),
    };

    internal float InnerProductUnchecked(ReadOnlySpan<float> query, ReadOnlySpan<byte> code) => Type switch
    {
        ScalarQuantizerType.SQ8 => Sq8Distance(query, code, l2: false),
        ScalarQuantizerType.SQ4 => Sq4Distance(query, code, l2: false),
        _ => Fp16Distance(query, code, l2: false),
    };

    internal void EncodeRow(ReadOnlySpan<float> x, Span<byte> code)
    {
        switch (Type)
        {
            case ScalarQuantizerType.Fp16:
                for (int j = 0; j < Dimension; j++)
                {
                    var h = (Half)Math.Clamp(x[j], -(float)Half.MaxValue, (float)Half.MaxValue);
                    MemoryMarshal.Write(code.Slice(2 * j, 2), BitConverter.HalfToUInt16Bits(h));
                }
                break;
            case ScalarQuantizerType.SQ8:
                for (int j = 0; j < Dimension; j++) code[j] = (byte)Level(x[j], j);
                break;
            default:
                code.Clear(); // an odd dimension leaves the last high nibble zero
                for (int j = 0; j < Dimension; j++) code[j >> 1] |= (byte)(Level(x[j], j) << ((j & 1) * 4));
                break;
        }
    }

    // An SQ8 code widened to 16 bits, for the integer kernel's query (Sq8IntegerL2).
    internal void EncodeRowWide(ReadOnlySpan<float> x, Span<short> code)
    {
        for (int j = 0; j < Dimension; j++) code[j] = (short)Level(x[j], j);
    }

    /// <summary>The integer L2 kernel over this trained SQ8 quantizer's codes (built once per training).</summary>
    internal Sq8IntegerL2 IntegerL2
    {
        get
        {
            if (Type != ScalarQuantizerType.SQ8) throw new InvalidOperationException("The integer kernel compares SQ8 codes only.");
            RequireTrained();
            return Volatile.Read(ref _integerL2) ?? (_integerL2 = new Sq8IntegerL2(_scale));
        }
    }

    internal void DecodeRow(ReadOnlySpan<byte> code, Span<float> x)
    {
        for (int j = 0; j < Dimension; j++)
        {
            x[j] = Type switch
            {
                ScalarQuantizerType.Fp16 => (float)BitConverter.UInt16BitsToHalf(MemoryMarshal.Read<ushort>(code.Slice(2 * j, 2))),
                ScalarQuantizerType.SQ8 => _bias[j] + code[j] * _scale[j],
                _ => _bias[j] + ((code[j >> 1] >> ((j & 1) * 4)) & 15) * _scale[j],
            };
        }
    }

    /// <summary>Writes the type, dimension and trained parameters.</summary>
    internal void WriteTo(IndexPayloadWriter writer)
    {
        RequireTrained();
        writer.WriteInt32((int)Type);
        writer.WriteInt32(Dimension);
        if (Type == ScalarQuantizerType.Fp16) return;
        writer.WriteSpan<float>(_min);
        writer.WriteSpan<float>(_range);
    }

    /// <summary>Reads what <see cref="WriteTo"/> wrote, checking every parameter.</summary>
    /// <param name="reader">The payload reader.</param>
    /// <param name="dimension">The dimension the container expects.</param>
    internal static ScalarQuantizer ReadFrom(IndexPayloadReader reader, int dimension)
    {
        var type = (ScalarQuantizerType)reader.ReadInt32("scalar quantizer type", 0, (int)ScalarQuantizerType.Fp16);
        int stored = reader.ReadInt32("quantizer dimension", 1, MaxDimension);
        if (stored != dimension)
            throw reader.Corrupt($"the quantizer has dimension {stored} but the index has dimension {dimension}");
        var quantizer = new ScalarQuantizer(dimension, type);
        if (type == ScalarQuantizerType.Fp16) return quantizer;
        float[] min = reader.ReadArray<float>(dimension, "quantizer minimums");
        float[] range = reader.ReadArray<float>(dimension, "quantizer ranges");
        for (int j = 0; j < dimension; j++)
        {
            if (!float.IsFinite(min[j]) || !float.IsFinite(range[j]) || range[j] < 0f || !float.IsFinite(min[j] + range[j]))
                throw reader.Corrupt($"dimension {j} has minimum {min[j]} and range {range[j]}; both must be finite and the range non-negative");
        }
        quantizer.SetParameters(min, range);
        return quantizer;
    }

    private void SetParameters(float[] min, float[] range)
    {
        float levels = Levels;
        var scale = new float[Dimension];
        var bias = new float[Dimension];
        for (int j = 0; j < Dimension; j++)
        {
            scale[j] = range[j] / levels;
            bias[j] = min[j] + 0.5f * scale[j];
        }
        _min = min;
        _range = range;
        _scale = scale;
        _bias = bias;
        _integerL2 = null;
        IsTrained = true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Level(float x, int j)
    {
        float range = _range[j];
        if (range == 0f) return 0;
        float t = (x - _min[j]) / range;
        // Compare before converting so that out-of-range values clamp instead of overflowing the cast.
        if (!(t > 0f)) return 0;
        int top = Levels - 1;
        if (t >= 1f) return top;
        return Math.Min(top, (int)(t * Levels));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Sq8Step512(ref float q, ref byte c, ref float s, ref float b, int j, bool l2, Vector512<float> acc)
    {
        Vector512<float> x = Vector512.FusedMultiplyAdd(WidenBytes16(ref Unsafe.Add(ref c, j)), Vector512.LoadUnsafe(ref s, (nuint)j), Vector512.LoadUnsafe(ref b, (nuint)j));
        Vector512<float> qv = Vector512.LoadUnsafe(ref q, (nuint)j);
        if (!l2) return Vector512.FusedMultiplyAdd(qv, x, acc);
        Vector512<float> diff = qv - x;
        return Vector512.FusedMultiplyAdd(diff, diff, acc);
    }

    private float Sq8Distance(ReadOnlySpan<float> query, ReadOnlySpan<byte> code, bool l2)
    {
        ref float q = ref MemoryMarshal.GetReference(query);
        ref byte c = ref MemoryMarshal.GetReference(code);
        ref float b = ref MemoryMarshal.GetArrayDataReference(_bias);
        ref float s = ref MemoryMarshal.GetArrayDataReference(_scale);
        int d = Dimension, j = 0;
        float sum = 0f;
        if (Vector512.IsHardwareAccelerated && d >= 16)
        {
            // Two accumulators: one FMA chain would wait on its own latency every 16 components.
            Vector512<float> acc0 = Vector512<float>.Zero, acc1 = Vector512<float>.Zero;
            for (; j <= d - 32; j += 32)
            {
                acc0 = Sq8Step512(ref q, ref c, ref s, ref b, j, l2, acc0);
                acc1 = Sq8Step512(ref q, ref c, ref s, ref b, j + 16, l2, acc1);
            }
            if (j <= d - 16)
            {
                acc0 = Sq8Step512(ref q, ref c, ref s, ref b, j, l2, acc0);
                j += 16;
            }
            sum = Vector512.Sum(acc0 + acc1);
        }
        else if (Vector256.IsHardwareAccelerated && d >= 8)
        {
            Vector256<float> acc = Vector256<float>.Zero;
            for (; j <= d - 8; j += 8)
            {
                Vector256<float> x = Vector256.FusedMultiplyAdd(WidenBytes8(ref Unsafe.Add(ref c, j)), Vector256.LoadUnsafe(ref s, (nuint)j), Vector256.LoadUnsafe(ref b, (nuint)j));
                Vector256<float> qv = Vector256.LoadUnsafe(ref q, (nuint)j);
                if (l2)
                {
                    Vector256<float> diff = qv - x;
                    acc = Vector256.FusedMultiplyAdd(diff, diff, acc);
                }
                else
                {
                    acc = Vector256.FusedMultiplyAdd(qv, x, acc);
                }
            }
            sum = Vector256.Sum(acc);
        }
        return Sq8Tail(ref q, ref c, ref s, ref b, j, l2, sum);
    }

    // Sq8Distance of four codes at once, summed in exactly the same order as four single calls (so the keys are bit for
    // bit the same): eight independent FMA chains instead of two hide the FMA latency of a list scan.
    internal Vector128<float> Sq8Distance4(ReadOnlySpan<float> query, ReadOnlySpan<byte> code0, ReadOnlySpan<byte> code1,
        ReadOnlySpan<byte> code2, ReadOnlySpan<byte> code3, bool l2)
    {
        int d = Dimension;
        if (!Vector512.IsHardwareAccelerated || d < 16)
            return Vector128.Create(Sq8Distance(query, code0, l2), Sq8Distance(query, code1, l2), Sq8Distance(query, code2, l2), Sq8Distance(query, code3, l2));
        ref float q = ref MemoryMarshal.GetReference(query);
        ref byte c0 = ref MemoryMarshal.GetReference(code0), c1 = ref MemoryMarshal.GetReference(code1);
        ref byte c2 = ref MemoryMarshal.GetReference(code2), c3 = ref MemoryMarshal.GetReference(code3);
        ref float b = ref MemoryMarshal.GetArrayDataReference(_bias);
        ref float s = ref MemoryMarshal.GetArrayDataReference(_scale);
        Vector512<float> a0 = Vector512<float>.Zero, e0 = a0, a1 = a0, e1 = a0, a2 = a0, e2 = a0, a3 = a0, e3 = a0;
        int j = 0;
        for (; j <= d - 32; j += 32)
        {
            a0 = Sq8Step512(ref q, ref c0, ref s, ref b, j, l2, a0);
            e0 = Sq8Step512(ref q, ref c0, ref s, ref b, j + 16, l2, e0);
            a1 = Sq8Step512(ref q, ref c1, ref s, ref b, j, l2, a1);
            e1 = Sq8Step512(ref q, ref c1, ref s, ref b, j + 16, l2, e1);
            a2 = Sq8Step512(ref q, ref c2, ref s, ref b, j, l2, a2);
            e2 = Sq8Step512(ref q, ref c2, ref s, ref b, j + 16, l2, e2);
            a3 = Sq8Step512(ref q, ref c3, ref s, ref b, j, l2, a3);
            e3 = Sq8Step512(ref q, ref c3, ref s, ref b, j + 16, l2, e3);
        }
        if (j <= d - 16)
        {
            a0 = Sq8Step512(ref q, ref c0, ref s, ref b, j, l2, a0);
            a1 = Sq8Step512(ref q, ref c1, ref s, ref b, j, l2, a1);
            a2 = Sq8Step512(ref q, ref c2, ref s, ref b, j, l2, a2);
            a3 = Sq8Step512(ref q, ref c3, ref s, ref b, j, l2, a3);
            j += 16;
        }
        return Vector128.Create(
            Sq8Tail(ref q, ref c0, ref s, ref b, j, l2, Vector512.Sum(a0 + e0)),
            Sq8Tail(ref q, ref c1, ref s, ref b, j, l2, Vector512.Sum(a1 + e1)),
            Sq8Tail(ref q, ref c2, ref s, ref b, j, l2, Vector512.Sum(a2 + e2)),
            Sq8Tail(ref q, ref c3, ref s, ref b, j, l2, Vector512.Sum(a3 + e3)));
    }

    // The components from `j` on, one at a time, added to `sum` (Sq8Distance's last loop).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float Sq8Tail(ref float q, ref byte c, ref float s, ref float b, int j, bool l2, float sum)
    {
        for (; j < Dimension; j++)
        {
            float x = Unsafe.Add(ref b, j) + Unsafe.Add(ref c, j) * Unsafe.Add(ref s, j);
            float qj = Unsafe.Add(ref q, j);
            sum += l2 ? (qj - x) * (qj - x) : qj * x;
        }
        return sum;
    }

    // Four-bit codes are not worth widening in registers here: the nibble shuffle costs what it saves.
    private float Sq4Distance(ReadOnlySpan<float> query, ReadOnlySpan<byte> code, bool l2)
    {
        float sum = 0f;
        for (int j = 0; j < Dimension; j++)
        {
            float x = _bias[j] + ((code[j >> 1] >> ((j & 1) * 4)) & 15) * _scale[j];
            sum += l2 ? (query[j] - x) * (query[j] - x) : query[j] * x;
        }
        return sum;
    }

    private float Fp16Distance(ReadOnlySpan<float> query, ReadOnlySpan<byte> code, bool l2)
    {
        ref float q = ref MemoryMarshal.GetReference(query);
        ref ushort h = ref Unsafe.As<byte, ushort>(ref MemoryMarshal.GetReference(code));
        int d = Dimension, j = 0;
        float sum = 0f;
        if (Vector512.IsHardwareAccelerated && d >= 16)
        {
            Vector512<float> acc = Vector512<float>.Zero;
            for (; j <= d - 16; j += 16)
            {
                Vector256<ushort> halves = Vector256.LoadUnsafe(ref h, (nuint)j);
                var (lo, hi) = Vector256.Widen(halves);
                Vector512<float> x = HalfBitsToSingle(Vector512.Create(lo, hi));
                Vector512<float> qv = Vector512.LoadUnsafe(ref q, (nuint)j);
                if (l2)
                {
                    Vector512<float> diff = qv - x;
                    acc = Vector512.FusedMultiplyAdd(diff, diff, acc);
                }
                else
                {
                    acc = Vector512.FusedMultiplyAdd(qv, x, acc);
                }
            }
            sum = Vector512.Sum(acc);
        }
        else if (Vector256.IsHardwareAccelerated && d >= 8)
        {
            Vector256<float> acc = Vector256<float>.Zero;
            for (; j <= d - 8; j += 8)
            {
                Vector128<ushort> halves = Vector128.LoadUnsafe(ref h, (nuint)j);
                var (lo, hi) = Vector128.Widen(halves);
                Vector256<float> x = HalfBitsToSingle(Vector256.Create(lo, hi));
                Vector256<float> qv = Vector256.LoadUnsafe(ref q, (nuint)j);
                if (l2)
                {
                    Vector256<float> diff = qv - x;
                    acc = Vector256.FusedMultiplyAdd(diff, diff, acc);
                }
                else
                {
                    acc = Vector256.FusedMultiplyAdd(qv, x, acc);
                }
            }
            sum = Vector256.Sum(acc);
        }
        for (; j < d; j++)
        {
            float x = (float)BitConverter.UInt16BitsToHalf(Unsafe.Add(ref h, j));
            float qj = Unsafe.Add(ref q, j);
            sum += l2 ? (qj - x) * (qj - x) : qj * x;
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> WidenBytes16(ref byte source)
    {
        Vector128<byte> bytes = Vector128.LoadUnsafe(ref source);
        if (Avx512F.IsSupported)
            return Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(bytes));
        var (lo, hi) = Vector128.Widen(bytes);
        var (a, b) = Vector128.Widen(lo);
        var (c, d) = Vector128.Widen(hi);
        return Vector512.ConvertToSingle(Vector512.Create(Vector256.Create(a, b), Vector256.Create(c, d)).AsInt32());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> WidenBytes8(ref byte source)
    {
        Vector128<byte> bytes = Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(ref source)).AsByte();
        if (Avx2.IsSupported)
            return Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(bytes));
        var (a, b) = Vector128.Widen(Vector128.WidenLower(bytes));
        return Vector256.ConvertToSingle(Vector256.Create(a, b).AsInt32());
    }

    // Half → float on the bit patterns (zero-extended to 32 bits): move exponent and mantissa into place and rebias
    // the exponent; infinities and NaNs get the full float exponent, and zeros and subnormals are renormalised by
    // a float subtraction (the classic branch-free conversion).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> HalfBitsToSingle(Vector512<uint> h)
    {
        Vector512<uint> sign = (h & Vector512.Create(0x8000u)) << 16;
        Vector512<uint> bits = (h & Vector512.Create(0x7FFFu)) << 13;
        Vector512<uint> exponent = bits & Vector512.Create(0x0F800000u);
        bits += Vector512.Create(0x38000000u);
        bits = Vector512.ConditionalSelect(Vector512.Equals(exponent, Vector512.Create(0x0F800000u)), bits + Vector512.Create(0x38000000u), bits);
        Vector512<float> small = (bits + Vector512.Create(0x00800000u)).AsSingle() - Vector512.Create(0x38800000u).AsSingle();
        Vector512<float> value = Vector512.ConditionalSelect(Vector512.Equals(exponent, Vector512<uint>.Zero).AsSingle(), small, bits.AsSingle());
        return (value.AsUInt32() | sign).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> HalfBitsToSingle(Vector256<uint> h)
    {
        Vector256<uint> sign = (h & Vector256.Create(0x8000u)) << 16;
        Vector256<uint> bits = (h & Vector256.Create(0x7FFFu)) << 13;
        Vector256<uint> exponent = bits & Vector256.Create(0x0F800000u);
        bits += Vector256.Create(0x38000000u);
        bits = Vector256.ConditionalSelect(Vector256.Equals(exponent, Vector256.Create(0x0F800000u)), bits + Vector256.Create(0x38000000u), bits);
        Vector256<float> small = (bits + Vector256.Create(0x00800000u)).AsSingle() - Vector256.Create(0x38800000u).AsSingle();
        Vector256<float> value = Vector256.ConditionalSelect(Vector256.Equals(exponent, Vector256<uint>.Zero).AsSingle(), small, bits.AsSingle());
        return (value.AsUInt32() | sign).AsSingle();
    }

    private int CheckRows(ReadOnlySpan<float> vectors, string parameterName) => VectorValidation.CheckRows(vectors, Dimension, parameterName);

    private void CheckPair(ReadOnlySpan<float> query, ReadOnlySpan<byte> code)
    {
        RequireTrained();
        if (query.Length != Dimension)
            throw new ArgumentException($"The query must have {Dimension} values; got {query.Length}.", nameof(query));
        if (code.Length != CodeSize)
            throw new ArgumentException($"The code must have {CodeSize} bytes; got {code.Length}.", nameof(code));
    }

    private void RequireTrained()
    {
        if (!IsTrained)
            throw new InvalidOperationException($"The {Type} scalar quantizer must be trained first; call Train.");
    }
}
