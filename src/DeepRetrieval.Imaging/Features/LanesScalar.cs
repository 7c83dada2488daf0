using System.Runtime.CompilerServices;

namespace DeepRetrieval.Imaging.Features;

/// <summary><see cref="IFloatLanes{TVector}"/> on one float: the fallback where no SIMD width is accelerated.</summary>
internal readonly struct LanesScalar : IFloatLanes<float>
{
    // A set mask lane is all bits set, as in the SIMD implementations.
    private static readonly float AllBits = BitConverter.Int32BitsToSingle(-1);

    public static int Count => 1;

    public static float Create(float value) => value;

    public static float Sequence(float start) => start;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load(ref float source, nint offset) => Unsafe.Add(ref source, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float value, ref float destination, nint offset) => Unsafe.Add(ref destination, offset) = value;

    public static float Add(float a, float b) => a + b;

    public static float Subtract(float a, float b) => a - b;

    public static float Multiply(float a, float b) => a * b;

    public static float Divide(float a, float b) => a / b;

    public static float MultiplyAdd(float a, float b, float c) => MathF.FusedMultiplyAdd(a, b, c);

    public static float Max(float a, float b) => a > b ? a : b;

    public static float Min(float a, float b) => a < b ? a : b;

    public static float Abs(float a) => MathF.Abs(a);

    public static float Sqrt(float a) => MathF.Sqrt(a);

    public static float Floor(float a) => MathF.Floor(a);

    public static float GreaterThan(float a, float b) => a > b ? AllBits : 0f;

    public static float GreaterThanOrEqual(float a, float b) => a >= b ? AllBits : 0f;

    public static float LessThan(float a, float b) => a < b ? AllBits : 0f;

    public static float LessThanOrEqual(float a, float b) => a <= b ? AllBits : 0f;

    public static float And(float a, float b) => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(a) & BitConverter.SingleToInt32Bits(b));

    public static float Or(float a, float b) => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(a) | BitConverter.SingleToInt32Bits(b));

    public static float Select(float mask, float ifTrue, float ifFalse) => BitConverter.SingleToInt32Bits(mask) != 0 ? ifTrue : ifFalse;

    public static ulong MaskBits(float mask) => BitConverter.SingleToInt32Bits(mask) != 0 ? 1UL : 0UL;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreTruncated(float value, ref int destination, nint offset) => Unsafe.Add(ref destination, offset) = (int)value;
}
