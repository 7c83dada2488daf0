namespace DeepRetrieval.Imaging.Features;

/// <summary>
/// Element-wise float operations on one SIMD register, implemented for 512-bit, 256-bit and one-lane (scalar)
/// registers. Hot loops are written once as generic methods over an implementation; the JIT specialises each
/// instantiation for its struct type and inlines the static calls, so the generic loop runs as hand-written
/// intrinsics. Callers pick the widest implementation the hardware accelerates.
/// </summary>
/// <typeparam name="TVector">The register type.</typeparam>
internal interface IFloatLanes<TVector> where TVector : struct
{
    /// <summary>Floats per register.</summary>
    static abstract int Count { get; }

    static abstract TVector Create(float value);

    /// <summary>Lane i holds <paramref name="start"/> + i.</summary>
    static abstract TVector Sequence(float start);

    static abstract TVector Load(ref float source, nint offset);

    static abstract void Store(TVector value, ref float destination, nint offset);

    static abstract TVector Add(TVector a, TVector b);

    static abstract TVector Subtract(TVector a, TVector b);

    static abstract TVector Multiply(TVector a, TVector b);

    static abstract TVector Divide(TVector a, TVector b);

    /// <summary>a · b + c, fused where the hardware has FMA.</summary>
    static abstract TVector MultiplyAdd(TVector a, TVector b, TVector c);

    static abstract TVector Max(TVector a, TVector b);

    static abstract TVector Min(TVector a, TVector b);

    static abstract TVector Abs(TVector a);

    static abstract TVector Sqrt(TVector a);

    static abstract TVector Floor(TVector a);

    /// <summary>All bits set in lanes where a &gt; b, clear elsewhere (as every comparison below).</summary>
    static abstract TVector GreaterThan(TVector a, TVector b);

    static abstract TVector GreaterThanOrEqual(TVector a, TVector b);

    static abstract TVector LessThan(TVector a, TVector b);

    static abstract TVector LessThanOrEqual(TVector a, TVector b);

    static abstract TVector And(TVector a, TVector b);

    static abstract TVector Or(TVector a, TVector b);

    /// <summary>Lanes of <paramref name="ifTrue"/> where the mask is set, of <paramref name="ifFalse"/> elsewhere.</summary>
    static abstract TVector Select(TVector mask, TVector ifTrue, TVector ifFalse);

    /// <summary>Bit i set when lane i of the mask is set.</summary>
    static abstract ulong MaskBits(TVector mask);

    /// <summary>Converts lanes (truncating toward zero) to int and stores them.</summary>
    static abstract void StoreTruncated(TVector value, ref int destination, nint offset);
}
