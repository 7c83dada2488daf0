using System.Buffers;
using DeepRetrieval.Indexes.Binary;
using DeepRetrieval.Transforms;

namespace DeepRetrieval.Hashing;

/// <summary>
/// Turns vectors into ITQ binary codes: an <see cref="ItqTransform"/> followed by sign packing (bit j set when output j
/// is positive; bit j is bit j % 8 of byte j / 8), ready for a binary index (<c>BinaryFlatIndex</c>).
/// </summary>
public sealed class ItqEncoder
{
    private const int ChunkRows = 256;

    /// <summary>Creates an encoder around a new, untrained transform.</summary>
    /// <param name="dimension">Components of an input vector.</param>
    /// <param name="bits">Bits per code: a positive multiple of 8, at most <paramref name="dimension"/>.</param>
    /// <param name="iterations">ITQ rounds.</param>
    /// <param name="seed">Seed of the initial rotation.</param>
    public ItqEncoder(int dimension, int bits, int iterations = 50, int seed = 1234)
        : this(new ItqTransform(dimension, CheckBits(bits), iterations, seed))
    {
    }

    /// <summary>Creates an encoder around an existing (trained or untrained) transform.</summary>
    /// <param name="transform">A transform whose output dimension is a multiple of 8.</param>
    public ItqEncoder(ItqTransform transform)
    {
        ArgumentNullException.ThrowIfNull(transform);
        CheckBits(transform.OutputDimension);
        Transform = transform;
    }

    /// <summary>The transform applied before taking signs.</summary>
    public ItqTransform Transform { get; }

    /// <summary>Bits per code.</summary>
    public int Bits => Transform.OutputDimension;

    /// <summary>Bytes per code: <see cref="Bits"/> / 8.</summary>
    public int CodeSize => Bits / 8;

    /// <summary>Trains the transform (see <see cref="ItqTransform.Train"/>).</summary>
    /// <param name="vectors">Row-major training vectors.</param>
    public void Train(ReadOnlySpan<float> vectors) => Transform.Train(vectors);

    /// <summary>Encodes row-major vectors into consecutive codes of <see cref="CodeSize"/> bytes.</summary>
    /// <param name="vectors">Rows of the transform's input dimension.</param>
    /// <param name="codes">Receives rows × <see cref="CodeSize"/> bytes.</param>
    /// <exception cref="InvalidOperationException">The transform is not trained.</exception>
    public void Encode(ReadOnlySpan<float> vectors, Span<byte> codes)
    {
        int d = Transform.InputDimension;
        if (vectors.Length % d != 0)
            throw new ArgumentException($"Expected whole rows of dimension {d}, but got {vectors.Length} values. Check the vectors' dimension.", nameof(vectors));
        int rows = vectors.Length / d;
        if (codes.Length != (long)rows * CodeSize)
            throw new ArgumentException($"{rows} vectors need {(long)rows * CodeSize} code bytes; got {codes.Length}.", nameof(codes));
        float[] scratch = ArrayPool<float>.Shared.Rent(Math.Min(rows, ChunkRows) * Bits);
        try
        {
            for (int start = 0; start < rows; start += ChunkRows)
            {
                int m = Math.Min(ChunkRows, rows - start);
                Span<float> outputs = scratch.AsSpan(0, m * Bits);
                Transform.Apply(vectors.Slice(start * d, m * d), outputs);
                SignBits.PackRows(outputs, Bits, codes.Slice(start * CodeSize, m * CodeSize));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    private static int CheckBits(int bits)
    {
        if (bits <= 0 || bits % 8 != 0)
            throw new ArgumentException($"Codes are packed 8 bits per byte, so ITQ's output dimension must be a positive multiple of 8; got {bits}.", nameof(bits));
        return bits;
    }
}
