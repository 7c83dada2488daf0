using System.Globalization;
using DeepRetrieval.Indexes;

namespace DeepRetrieval.Evaluation;

/// <summary>The memory an index holds, in total and per stored vector, with human-readable formatting.</summary>
public readonly record struct MemoryFootprint
{
    private static readonly string[] Units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

    /// <summary>Creates a footprint from a byte count and the number of vectors stored in those bytes.</summary>
    /// <param name="bytes">Bytes held; not negative.</param>
    /// <param name="vectorCount">Vectors stored; not negative.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative.</exception>
    public MemoryFootprint(long bytes, long vectorCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        ArgumentOutOfRangeException.ThrowIfNegative(vectorCount);
        Bytes = bytes;
        VectorCount = vectorCount;
    }

    /// <summary>Bytes held.</summary>
    public long Bytes { get; }

    /// <summary>Vectors stored.</summary>
    public long VectorCount { get; }

    /// <summary>
    /// <c>Bytes / VectorCount</c>, fixed costs (codebooks, graph entry points) included;
    /// <see cref="double.NaN"/> when no vector is stored.
    /// </summary>
    public double BytesPerVector => VectorCount == 0 ? double.NaN : Bytes / (double)VectorCount;

    /// <summary>Reads an index's <see cref="IIndex.MemoryUsageBytes"/> and <see cref="IIndex.Count"/>.</summary>
    /// <param name="index">The index to measure.</param>
    /// <returns>The index's footprint.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="index"/> is null.</exception>
    public static MemoryFootprint Of(IVectorIndex index)
    {
        ArgumentNullException.ThrowIfNull(index);
        return new MemoryFootprint(index.MemoryUsageBytes, index.Count);
    }

    /// <summary>
    /// How many times smaller than raw float32 storage the index is:
    /// <c>(4 · dimension) / BytesPerVector</c>; <see cref="double.NaN"/> when no vector or no byte is stored.
    /// </summary>
    /// <param name="dimension">Components per vector; positive.</param>
    /// <returns>The compression ratio, or NaN when no vector or no byte is stored.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is not positive.</exception>
    public double CompressionRatio(int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        return VectorCount == 0 || Bytes == 0 ? double.NaN : sizeof(float) * (double)dimension / BytesPerVector;
    }

    /// <summary>
    /// Formats a byte count in binary (1024-based) units, with two decimals above 1 KiB, for
    /// example <c>512 B</c>, <c>1.50 KiB</c>, <c>488.28 MiB</c>, using the invariant culture.
    /// </summary>
    /// <param name="bytes">Bytes; not negative.</param>
    /// <returns>The formatted size.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bytes"/> is negative.</exception>
    public static string FormatBytes(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (bytes < 1024)
            return string.Create(CultureInfo.InvariantCulture, $"{bytes} B");
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{value:F2} {Units[unit]}");
    }

    /// <summary>Formats the footprint, for example <c>1.50 MiB (16.0 B/vector, 98,304 vectors)</c>.</summary>
    /// <returns>The formatted footprint, using the invariant culture.</returns>
    public override string ToString()
        => VectorCount == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{FormatBytes(Bytes)} (no vectors)")
            : string.Create(CultureInfo.InvariantCulture, $"{FormatBytes(Bytes)} ({BytesPerVector:F1} B/vector, {VectorCount:N0} vectors)");
}
