using System.Buffers;
using System.Numerics.Tensors;
using DeepRetrieval.Persistence;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace DeepRetrieval.Transforms;

/// <summary>
/// Learned whitening "Lw" (Radenović, Tolias and Chum, ECCV 2016), learned from labelled pairs as cirtorch's
/// <c>whitenlearn</c> learns it: the mean m of the pairs' first vectors; the intra-class covariance
/// C_S = Σ (x_q − x_p)(x_q − x_p)ᵀ / n over matching pairs; its inverse Cholesky factor L⁻¹ (a tiny ridge is added,
/// ×10 at a time from 1e-10, until C_S is positive definite); the inter-class scatter D of L⁻¹(x − m) over all
/// training vectors (or, when non-matching pairs are given, C_D = Σ (x_i − x_j)(x_i − x_j)ᵀ / n over them, mapped by
/// L⁻¹); and its eigenvectors, largest eigenvalue first: P = Eᵀ L⁻¹. <see cref="Apply"/> maps x to P(x − m), keeps
/// the first <see cref="IVectorTransform.OutputDimension"/> components and L2-normalises (cirtorch's
/// <c>whitenapply</c>, with its 1e-6 added to the norm).
/// </summary>
/// <remarks>Each eigenvector's sign makes its largest-magnitude component positive, so training is deterministic.</remarks>
public sealed class LearnedWhitening : IVectorTransform
{
    /// <summary>The kind name in index files and factory strings.</summary>
    public const string KindName = "LW";

    private const int MaxDimension = 1 << 14;
    private readonly int[] _queries;
    private readonly int[] _positives;
    private readonly int[]? _negativeFirst;
    private readonly int[]? _negativeSecond;
    private float[] _mean = [];
    private float[] _projection = [];

    /// <summary>Creates an untrained whitening whose <see cref="Train"/> reads the pairs from the given row indices.</summary>
    /// <param name="inputDimension">Components of an input vector.</param>
    /// <param name="outputDimension">Components kept (1 ≤ output ≤ input).</param>
    /// <param name="queryRows">Row of the first vector of each matching pair.</param>
    /// <param name="positiveRows">Row of the second vector of each matching pair.</param>
    /// <param name="nonMatchingFirstRows">Optional: rows of the first vectors of non-matching pairs (cirtorch uses all vectors instead).</param>
    /// <param name="nonMatchingSecondRows">Rows of the second vectors of non-matching pairs, with <paramref name="nonMatchingFirstRows"/>.</param>
    /// <exception cref="ArgumentException">Dimensions are out of range, the pair lists differ in length or are empty, or a row is negative.</exception>
    public LearnedWhitening(int inputDimension, int outputDimension, ReadOnlySpan<int> queryRows, ReadOnlySpan<int> positiveRows,
        ReadOnlySpan<int> nonMatchingFirstRows = default, ReadOnlySpan<int> nonMatchingSecondRows = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputDimension);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(inputDimension, MaxDimension);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputDimension);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(outputDimension, inputDimension);
        CheckPairs(queryRows, positiveRows, nameof(queryRows), nameof(positiveRows), required: true);
        CheckPairs(nonMatchingFirstRows, nonMatchingSecondRows, nameof(nonMatchingFirstRows), nameof(nonMatchingSecondRows), required: false);
        InputDimension = inputDimension;
        OutputDimension = outputDimension;
        _queries = queryRows.ToArray();
        _positives = positiveRows.ToArray();
        if (!nonMatchingFirstRows.IsEmpty)
        {
            _negativeFirst = nonMatchingFirstRows.ToArray();
            _negativeSecond = nonMatchingSecondRows.ToArray();
        }
    }

    /// <inheritdoc />
    public int InputDimension { get; }

    /// <inheritdoc />
    public int OutputDimension { get; }

    /// <inheritdoc />
    public bool IsTrained { get; private set; }

    /// <inheritdoc />
    public string Kind => KindName;

    /// <summary>The mean m subtracted before projecting.</summary>
    public ReadOnlySpan<float> Mean => _mean;

    /// <summary>The projection P, <see cref="IVectorTransform.InputDimension"/> rows of the same length, row-major.</summary>
    public ReadOnlySpan<float> Projection => _projection;

    /// <summary>The ridge that made the intra-class covariance positive definite (0 when none was needed).</summary>
    public double Ridge { get; private set; }

    /// <inheritdoc />
    /// <remarks>The rows given to the constructor index <paramref name="vectors"/>.</remarks>
    public void Train(ReadOnlySpan<float> vectors)
    {
        int rows = TransformRows.Check(vectors, InputDimension, nameof(vectors));
        CheckRows(_queries, rows, "queryRows");
        CheckRows(_positives, rows, "positiveRows");
        if (_negativeFirst is not null)
        {
            CheckRows(_negativeFirst, rows, "nonMatchingFirstRows");
            CheckRows(_negativeSecond!, rows, "nonMatchingSecondRows");
        }

        int d = InputDimension;
        double[] m = new double[d];
        foreach (int q in _queries)
            for (int j = 0; j < d; j++) m[j] += vectors[q * d + j];
        for (int j = 0; j < d; j++) m[j] /= _queries.Length;

        Matrix<double> intra = PairScatter(vectors, _queries, _positives);
        (Matrix<double> lower, double ridge) = Cholesky(intra);
        Matrix<double> inverse = lower.Inverse();

        Matrix<double> inter;
        if (_negativeFirst is null)
        {
            // cirtorch: the scatter of L⁻¹(x − m) over every training vector.
            var centred = Matrix<double>.Build.Dense(d, rows);
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < d; j++) centred[j, r] = vectors[r * d + j] - m[j];
            Matrix<double> mapped = inverse * centred;
            inter = mapped * mapped.Transpose();
        }
        else
        {
            inter = inverse * PairScatter(vectors, _negativeFirst, _negativeSecond!) * inverse.Transpose();
        }

        Evd<double> evd = (0.5 * (inter + inter.Transpose())).Evd(Symmetricity.Symmetric);
        var projection = new float[d * d];
        for (int i = 0; i < d; i++)
        {
            Vector<double> e = evd.EigenVectors.Column(d - 1 - i); // MathNet sorts ascending
            int largest = e.AbsoluteMaximumIndex();
            double sign = e[largest] < 0 ? -1 : 1;
            Vector<double> row = sign * (e.ToRowMatrix() * inverse).Row(0);
            for (int j = 0; j < d; j++) projection[i * d + j] = (float)row[j];
        }

        _mean = m.Select(v => (float)v).ToArray();
        _projection = projection;
        Ridge = ridge;
        IsTrained = true;
    }

    /// <inheritdoc />
    public void Apply(ReadOnlySpan<float> input, Span<float> output)
    {
        if (!IsTrained) throw new InvalidOperationException("Train the learned whitening before applying it.");
        int rows = TransformRows.CheckPair(input, output, InputDimension, OutputDimension);
        int d = InputDimension, k = OutputDimension;
        float[] rented = ArrayPool<float>.Shared.Rent(d);
        try
        {
            Span<float> centred = rented.AsSpan(0, d);
            for (int r = 0; r < rows; r++)
            {
                TensorPrimitives.Subtract(input.Slice(r * d, d), _mean, centred);
                Span<float> y = output.Slice(r * k, k);
                for (int i = 0; i < k; i++) y[i] = TensorPrimitives.Dot(_projection.AsSpan(i * d, d), centred);
                TensorPrimitives.Divide(y, TensorPrimitives.Norm(y) + 1e-6f, y);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }

    /// <inheritdoc />
    /// <remarks>To read it back from an index file, <see cref="KindName"/> must be registered with the index file's transform readers.</remarks>
    public void Write(IndexPayloadWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (!IsTrained) throw new InvalidOperationException("Train the learned whitening before saving it.");
        writer.WriteInt32(InputDimension);
        writer.WriteInt32(OutputDimension);
        writer.WriteSpan<float>(_mean);
        writer.WriteSpan<float>(_projection);
    }

    /// <summary>Reads what <see cref="Write"/> wrote, checking every value.</summary>
    internal static LearnedWhitening Read(IndexPayloadReader reader)
    {
        int d = reader.ReadInt32("Lw input dimension", 1, MaxDimension);
        int k = reader.ReadInt32("Lw output dimension", 1, d);
        var whitening = new LearnedWhitening(d, k, [0], [0])
        {
            _mean = reader.ReadArray<float>(d, "Lw mean"),
            _projection = reader.ReadArray<float>((long)d * d, "Lw projection"),
        };
        if (!FiniteValues.All(whitening._mean) || !FiniteValues.All(whitening._projection))
            throw reader.Corrupt("an Lw parameter is NaN or infinite");
        whitening.IsTrained = true;
        return whitening;
    }

    private Matrix<double> PairScatter(ReadOnlySpan<float> vectors, int[] first, int[] second)
    {
        int d = InputDimension;
        var differences = new float[first.Length * d];
        for (int p = 0; p < first.Length; p++)
            TensorPrimitives.Subtract(vectors.Slice(first[p] * d, d), vectors.Slice(second[p] * d, d), differences.AsSpan(p * d, d));
        double[] scatter = MatrixProducts.TransposeMultiply(differences, differences, first.Length, d, d);
        return Matrix<double>.Build.Dense(d, d, (i, j) => scatter[i * d + j] / first.Length);
    }

    // cirtorch's cholesky(): add 1e-10, 1e-9, … on the diagonal until the factorisation succeeds.
    private static (Matrix<double> Lower, double Ridge) Cholesky(Matrix<double> scatter)
    {
        double ridge = 0;
        while (true)
        {
            Matrix<double> candidate = ridge == 0 ? scatter : scatter + ridge * Matrix<double>.Build.DenseIdentity(scatter.RowCount);
            if (IsPositiveDefinite(candidate, out Matrix<double>? lower)) return (lower!, ridge);
            ridge = ridge == 0 ? 1e-10 : ridge * 10;
            if (ridge > 1e10) throw new InvalidOperationException("The intra-class covariance of the matching pairs cannot be made positive definite.");
        }
    }

    private static bool IsPositiveDefinite(Matrix<double> matrix, out Matrix<double>? lower)
    {
        try
        {
            lower = matrix.Cholesky().Factor;
            return lower.Diagonal().All(v => v > 0 && double.IsFinite(v));
        }
        catch (ArgumentException)
        {
            lower = null;
            return false;
        }
    }

    private static void CheckPairs(ReadOnlySpan<int> first, ReadOnlySpan<int> second, string firstName, string secondName, bool required)
    {
        if (first.Length != second.Length)
            throw new ArgumentException($"{firstName} holds {first.Length} rows but {secondName} {second.Length}; they pair up one to one.", secondName);
        if (required && first.IsEmpty)
            throw new ArgumentException($"{firstName} is empty; learning the whitening needs matching pairs.", firstName);
    }

    private static void CheckRows(int[] rows, int count, string name)
    {
        foreach (int row in rows)
            if (row < 0 || row >= count)
                throw new ArgumentException($"{name} holds row {row}, outside the {count} training vectors.", "vectors");
    }
}
