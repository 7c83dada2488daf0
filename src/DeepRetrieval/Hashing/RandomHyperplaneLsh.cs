using System.Buffers;
using System.Numerics.Tensors;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Hashing;

/// <summary>
/// Random-hyperplane locality-sensitive hashing (Charikar's SimHash, the hash of Faiss's <c>IndexLSH</c>): bit i of a
/// vector's code is set when its projection on the i-th random Gaussian direction exceeds that bit's threshold (0
/// unless trained). Two vectors at angle θ disagree on each bit with probability θ / π, so the Hamming distance of their
/// codes divided by <see cref="Bits"/> estimates θ / π.
/// </summary>
/// <remarks>
/// <para>The directions come from a seeded generator and are stored, so a saved hasher encodes the same way on any
/// machine. <see cref="TrainThresholds"/> is optional (Faiss's <c>train_thresholds</c>): it sets each bit's threshold to
/// the median projection of sample vectors, so each bit splits the data in half, which helps when the data is not
/// centred on the origin (the bits then estimate angles around the data's centre rather than around the origin).</para>
/// <para>Thread safety: after construction (and training), encoding may run concurrently.</para>
/// </remarks>
public sealed class RandomHyperplaneLsh
{
    private const int MaxDimension = 1 << 20;
    private const int MaxBits = 1 << 16;
    private readonly float[] _directions;
    private readonly float[] _thresholds;

    /// <summary>Draws <paramref name="bits"/> random Gaussian directions in <paramref name="dimension"/> dimensions.</summary>
    /// <param name="dimension">Components per input vector; positive.</param>
    /// <param name="bits">Bits per code: a positive multiple of 8.</param>
    /// <param name="seed">Seed of the directions; the same seed gives the same hasher.</param>
    /// <exception cref="ArgumentException">The bit count is not a positive multiple of 8.</exception>
    public RandomHyperplaneLsh(int dimension, int bits, int seed = 1234)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dimension, MaxDimension);
        CheckBits(bits);
        Dimension = dimension;
        Bits = bits;
        _directions = new float[(long)bits * dimension <= Array.MaxLength ? bits * dimension : throw new ArgumentException($"{bits} directions of dimension {dimension} exceed the largest array.", nameof(bits))];
        _thresholds = new float[bits];
        var random = new Random(seed);
        for (int i = 0; i < _directions.Length; i++)
            _directions[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
    }

    private RandomHyperplaneLsh(int dimension, int bits, float[] directions, float[] thresholds, bool trained)
    {
        Dimension = dimension;
        Bits = bits;
        _directions = directions;
        _thresholds = thresholds;
        HasTrainedThresholds = trained;
    }

    /// <summary>Components per input vector.</summary>
    public int Dimension { get; }

    /// <summary>Bits per code.</summary>
    public int Bits { get; }

    /// <summary>Bytes per code: <see cref="Bits"/> / 8.</summary>
    public int CodeSize => Bits / 8;

    /// <summary>True once <see cref="TrainThresholds"/> has run; the thresholds are all zero before.</summary>
    public bool HasTrainedThresholds { get; private set; }

    /// <summary>The random directions, <see cref="Bits"/> rows of <see cref="Dimension"/> values.</summary>
    public ReadOnlySpan<float> Directions => _directions;

    /// <summary>Each bit's threshold on its projection.</summary>
    public ReadOnlySpan<float> Thresholds => _thresholds;

    /// <summary>Sets each bit's threshold to the median projection of <paramref name="vectors"/> (Faiss's <c>train_thresholds</c>).</summary>
    /// <param name="vectors">Row-major sample vectors; at least one row, all finite.</param>
    public void TrainThresholds(ReadOnlySpan<float> vectors)
    {
        int rows = CheckRows(vectors, nameof(vectors));
        if (rows == 0) throw new ArgumentException("Training needs at least one vector.", nameof(vectors));
        var projections = new float[(long)rows * Bits <= Array.MaxLength ? rows * Bits : throw new ArgumentException($"{rows} training vectors × {Bits} bits exceed the largest array; train on a sample.", nameof(vectors))];
        for (int r = 0; r < rows; r++)
            Project(vectors.Slice(r * Dimension, Dimension), projections.AsSpan(r * Bits, Bits));
        var column = new float[rows];
        for (int b = 0; b < Bits; b++)
        {
            for (int r = 0; r < rows; r++) column[r] = projections[r * Bits + b];
            Array.Sort(column);
            _thresholds[b] = rows % 2 == 1 ? column[rows / 2] : (column[rows / 2 - 1] + column[rows / 2]) / 2;
        }
        HasTrainedThresholds = true;
    }

    /// <summary>Encodes row-major vectors into consecutive codes of <see cref="CodeSize"/> bytes.</summary>
    /// <param name="vectors">Rows of <see cref="Dimension"/> finite values.</param>
    /// <param name="codes">Receives rows × <see cref="CodeSize"/> bytes.</param>
    /// <exception cref="ArgumentException">Not whole rows, a non-finite value, or a code buffer of the wrong size.</exception>
    public void Encode(ReadOnlySpan<float> vectors, Span<byte> codes)
    {
        int rows = CheckRows(vectors, nameof(vectors));
        if (codes.Length != (long)rows * CodeSize)
            throw new ArgumentException($"{rows} vectors need {(long)rows * CodeSize} code bytes; got {codes.Length}.", nameof(codes));
        EncodeUnchecked(vectors, codes);
    }

    /// <summary>Encodes validated rows (the caller checked dimension, finiteness and sizes).</summary>
    internal void EncodeUnchecked(ReadOnlySpan<float> vectors, Span<byte> codes)
    {
        float[] scratch = ArrayPool<float>.Shared.Rent(Bits);
        try
        {
            Span<float> projections = scratch.AsSpan(0, Bits);
            for (int r = 0; r < vectors.Length / Dimension; r++)
            {
                Project(vectors.Slice(r * Dimension, Dimension), projections);
                TensorPrimitives.Subtract(projections, _thresholds, projections);
                SignBits.Pack(projections, codes.Slice(r * CodeSize, CodeSize));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    internal void Write(IndexPayloadWriter writer)
    {
        writer.WriteInt32(Dimension);
        writer.WriteInt32(Bits);
        writer.WriteInt32(HasTrainedThresholds ? 1 : 0);
        writer.WriteSpan<float>(_directions);
        writer.WriteSpan<float>(_thresholds);
    }

    internal static RandomHyperplaneLsh Read(IndexPayloadReader reader, int dimension)
    {
        int stored = reader.ReadInt32("hasher dimension", 1, MaxDimension);
        if (stored != dimension) throw reader.Corrupt($"the hasher has dimension {stored} but the index {dimension}");
        int bits = reader.ReadInt32("bits", 8, MaxBits);
        if (bits % 8 != 0) throw reader.Corrupt($"bits = {bits} is not a multiple of 8");
        bool trained = reader.ReadInt32("trained flag", 0, 1) == 1;
        float[] directions = reader.ReadArray<float>((long)bits * dimension, "directions");
        float[] thresholds = reader.ReadArray<float>(bits, "thresholds");
        if (!FiniteValues.All(directions) || !FiniteValues.All(thresholds))
            throw reader.Corrupt("a direction or threshold is not finite");
        return new RandomHyperplaneLsh(dimension, bits, directions, thresholds, trained);
    }

    internal static void CheckBits(int bits)
    {
        if (bits <= 0 || bits % 8 != 0 || bits > MaxBits)
            throw new ArgumentException($"Codes are packed 8 bits per byte, so the bit count must be a positive multiple of 8 up to {MaxBits}; got {bits}.", nameof(bits));
    }

    private void Project(ReadOnlySpan<float> vector, Span<float> projections)
    {
        for (int b = 0; b < Bits; b++)
            projections[b] = TensorPrimitives.Dot(vector, _directions.AsSpan(b * Dimension, Dimension));
    }

    private int CheckRows(ReadOnlySpan<float> vectors, string parameterName) => VectorValidation.CheckRows(vectors, Dimension, parameterName);
}
