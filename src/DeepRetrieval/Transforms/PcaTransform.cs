using System.Buffers;
using System.Numerics.Tensors;
using DeepRetrieval.Persistence;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace DeepRetrieval.Transforms;

/// <summary>
/// Principal component analysis (Faiss's <c>PCAMatrix</c>): subtracts the training mean and projects onto the
/// <see cref="IVectorTransform.OutputDimension"/> directions of largest variance, optionally whitening them
/// (dividing each by its standard deviation) and then applying a seeded random rotation.
/// </summary>
/// <remarks>
/// <para>Training computes the d × d covariance of the training vectors (accumulated in double) and its symmetric
/// eigendecomposition with MathNet.Numerics; the output is <c>y = R · diag(s) · Vᵀ (x − μ)</c>, where the columns
/// of V are the top eigenvectors, <c>sᵢ = 1 / √(λᵢ + ε)</c> with whitening and 1 without, and R is a random
/// orthogonal matrix (the Q of a Gaussian matrix's QR decomposition) with <see cref="RandomRotation"/>, the identity
/// otherwise. Rotation spreads the variance evenly over the output components, which suits a product quantizer
/// that follows (Faiss's <c>PCAR</c>).</para>
/// <para>Each eigenvector's sign is fixed so that its largest-magnitude component is positive, so a transform is
/// reproducible from the data alone. A whitened component of zero variance (λ + ε = 0) is mapped to zero.</para>
/// <para>Thread safety: after training, <see cref="Apply"/> and <see cref="ReverseTransform"/> may run concurrently.</para>
/// </remarks>
public sealed class PcaTransform : IReversibleVectorTransform
{
    /// <summary>The kind name used in index files and factory strings.</summary>
    public const string KindName = "PCA";

    private const int MaxDimension = 1 << 16; // a d × d covariance in double must fit in memory

    private float[] _mean = [];
    private float[] _eigenvalues = [];
    private float[] _forward = [];  // [out][in]: R · diag(s) · Vᵀ
    private float[] _backward = []; // [out][in]: R · diag(1/s) · Vᵀ, so x = μ + Σⱼ yⱼ · backwardⱼ

    /// <summary>Creates an untrained PCA transform.</summary>
    /// <param name="inputDimension">Components of an input vector; positive.</param>
    /// <param name="outputDimension">Principal components kept; 1 to <paramref name="inputDimension"/>.</param>
    /// <param name="whiten">Divide each kept component by its standard deviation so that all have unit variance.</param>
    /// <param name="whiteningEpsilon">Added to each eigenvalue before whitening, to avoid blowing up tiny components; non-negative.</param>
    /// <param name="randomRotation">Apply a seeded random rotation after the projection.</param>
    /// <param name="seed">Seed of the random rotation.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension or the epsilon is out of range.</exception>
    public PcaTransform(int inputDimension, int outputDimension, bool whiten = false, float whiteningEpsilon = 0f, bool randomRotation = false, int seed = 1234)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputDimension);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(inputDimension, MaxDimension);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputDimension);
        if (outputDimension > inputDimension)
            throw new ArgumentOutOfRangeException(nameof(outputDimension), outputDimension, $"PCA keeps at most the input dimension {inputDimension} components; got {outputDimension}.");
        if (!(whiteningEpsilon >= 0f) || !float.IsFinite(whiteningEpsilon))
            throw new ArgumentOutOfRangeException(nameof(whiteningEpsilon), whiteningEpsilon, "The whitening epsilon must be a finite, non-negative number.");
        InputDimension = inputDimension;
        OutputDimension = outputDimension;
        Whiten = whiten;
        WhiteningEpsilon = whiteningEpsilon;
        RandomRotation = randomRotation;
        Seed = seed;
    }

    /// <inheritdoc />
    public int InputDimension { get; }

    /// <inheritdoc />
    public int OutputDimension { get; }

    /// <inheritdoc />
    public bool IsTrained { get; private set; }

    /// <inheritdoc />
    public string Kind => KindName;

    /// <summary>Whether kept components are scaled to unit variance.</summary>
    public bool Whiten { get; }

    /// <summary>Added to each eigenvalue before whitening.</summary>
    public float WhiteningEpsilon { get; }

    /// <summary>Whether a random rotation follows the projection.</summary>
    public bool RandomRotation { get; }

    /// <summary>Seed of the random rotation.</summary>
    public int Seed { get; }

    /// <summary>The training mean, subtracted before projecting (empty before training).</summary>
    public ReadOnlySpan<float> Mean => _mean;

    /// <summary>All <see cref="InputDimension"/> eigenvalues of the training covariance, largest first: the variance along each principal axis (empty before training).</summary>
    public ReadOnlySpan<float> Eigenvalues => _eigenvalues;

    /// <summary>The linear map applied after centring, row-major <see cref="OutputDimension"/> × <see cref="InputDimension"/> (empty before training).</summary>
    public ReadOnlySpan<float> Matrix => _forward;

    /// <summary>Share of the training variance the kept components carry: the sum of the top eigenvalues over the sum of all (1 when there is no variance).</summary>
    public double ExplainedVarianceRatio
    {
        get
        {
            RequireTrained();
            double total = 0, kept = 0;
            for (int i = 0; i < _eigenvalues.Length; i++)
            {
                double value = Math.Max(0f, _eigenvalues[i]);
                total += value;
                if (i < OutputDimension) kept += value;
            }
            return total > 0 ? kept / total : 1.0;
        }
    }

    /// <inheritdoc />
    /// <remarks>At least two rows are needed to estimate a covariance.</remarks>
    public void Train(ReadOnlySpan<float> vectors)
    {
        int rows = TransformRows.Check(vectors, InputDimension, nameof(vectors));
        if (rows < 2)
            throw new ArgumentException($"PCA needs at least 2 training vectors to estimate a covariance; got {rows}.", nameof(vectors));
        int d = InputDimension;
        float[] mean = ComputeMean(vectors, rows, d);
        double[,] covariance = ComputeCovariance(vectors, rows, d, mean);

        var evd = Matrix<double>.Build.DenseOfArray(covariance).Evd(Symmetricity.Symmetric);
        // MathNet returns the eigenvalues of a symmetric matrix in ascending order.
        var eigenvalues = new float[d];
        for (int i = 0; i < d; i++) eigenvalues[i] = (float)evd.EigenValues[d - 1 - i].Real;
        Matrix<double> vectorsByColumn = evd.EigenVectors;

        int k = OutputDimension;
        var projection = Matrix<double>.Build.Dense(k, d);
        var scales = new double[k];
        for (int i = 0; i < k; i++)
        {
            int column = d - 1 - i;
            int largest = 0;
            for (int j = 1; j < d; j++)
                if (Math.Abs(vectorsByColumn[j, column]) > Math.Abs(vectorsByColumn[largest, column])) largest = j;
            double sign = vectorsByColumn[largest, column] < 0 ? -1 : 1;
            for (int j = 0; j < d; j++) projection[i, j] = sign * vectorsByColumn[j, column];
            scales[i] = ScaleOf(eigenvalues[i], Whiten, WhiteningEpsilon);
        }

        Matrix<double> rotation = RandomRotation ? RandomOrthogonal(k, Seed) : Matrix<double>.Build.DenseIdentity(k);
        Matrix<double> forward = rotation * Matrix<double>.Build.DenseOfDiagonalArray(scales) * projection;
        var inverseScales = scales.Select(s => s > 0 ? 1.0 / s : 0.0).ToArray();
        Matrix<double> backward = rotation * Matrix<double>.Build.DenseOfDiagonalArray(inverseScales) * projection;

        _mean = mean;
        _eigenvalues = eigenvalues;
        _forward = ToRowMajor(forward);
        _backward = ToRowMajor(backward);
        IsTrained = true;
    }

    /// <inheritdoc />
    public void Apply(ReadOnlySpan<float> input, Span<float> output)
    {
        RequireTrained();
        int rows = TransformRows.CheckPair(input, output, InputDimension, OutputDimension);
        int d = InputDimension, k = OutputDimension;
        float[] centred = ArrayPool<float>.Shared.Rent(d);
        try
        {
            Span<float> x = centred.AsSpan(0, d);
            for (int r = 0; r < rows; r++)
            {
                TensorPrimitives.Subtract(input.Slice(r * d, d), _mean, x);
                Span<float> y = output.Slice(r * k, k);
                for (int i = 0; i < k; i++) y[i] = TensorPrimitives.Dot(_forward.AsSpan(i * d, d), x);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(centred);
        }
    }

    /// <summary>
    /// Maps transformed vectors back to the input space (Faiss's <c>reverse_transform</c>): undoes the rotation and
    /// whitening, and adds the mean back. For a vector of the training distribution the result is its projection onto
    /// the kept principal subspace, so the error is the variance of the dropped components.
    /// </summary>
    /// <param name="input">Rows of <see cref="IVectorTransform.OutputDimension"/> values.</param>
    /// <param name="output">Receives as many rows of <see cref="IVectorTransform.InputDimension"/> values.</param>
    /// <exception cref="InvalidOperationException">The transform is not trained.</exception>
    /// <exception cref="ArgumentException">The spans are not whole rows or their row counts differ.</exception>
    public void ReverseTransform(ReadOnlySpan<float> input, Span<float> output)
    {
        RequireTrained();
        TransformRows.CheckPair(input, output, OutputDimension, InputDimension);
        TransformRows.CombineRows(input, output, _backward, _mean, OutputDimension, InputDimension);
    }

    /// <inheritdoc />
    public void Write(IndexPayloadWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        RequireTrained();
        writer.WriteInt32(InputDimension);
        writer.WriteInt32(OutputDimension);
        writer.WriteInt32(Whiten ? 1 : 0);
        writer.WriteSingle(WhiteningEpsilon);
        writer.WriteInt32(RandomRotation ? 1 : 0);
        writer.WriteInt32(Seed);
        writer.WriteSpan<float>(_mean);
        writer.WriteSpan<float>(_eigenvalues);
        writer.WriteSpan<float>(_forward);
        writer.WriteSpan<float>(_backward);
    }

    /// <summary>Reads what <see cref="Write"/> wrote, checking every parameter.</summary>
    internal static PcaTransform Read(IndexPayloadReader reader)
    {
        int d = reader.ReadInt32("PCA input dimension", 1, MaxDimension);
        int k = reader.ReadInt32("PCA output dimension", 1, d);
        bool whiten = reader.ReadInt32("PCA whitening flag", 0, 1) == 1;
        float epsilon = reader.ReadSingle();
        if (!(epsilon >= 0f) || !float.IsFinite(epsilon)) throw reader.Corrupt($"the PCA whitening epsilon {epsilon} is not a finite, non-negative number");
        bool rotate = reader.ReadInt32("PCA rotation flag", 0, 1) == 1;
        int seed = reader.ReadInt32();
        var pca = new PcaTransform(d, k, whiten, epsilon, rotate, seed)
        {
            _mean = reader.ReadArray<float>(d, "PCA mean"),
            _eigenvalues = reader.ReadArray<float>(d, "PCA eigenvalues"),
            _forward = reader.ReadArray<float>((long)k * d, "PCA matrix"),
            _backward = reader.ReadArray<float>((long)k * d, "PCA reverse matrix"),
        };
        if (!FiniteValues.All(pca._mean) || !FiniteValues.All(pca._eigenvalues)
            || !FiniteValues.All(pca._forward) || !FiniteValues.All(pca._backward))
            throw reader.Corrupt("a PCA parameter is NaN or infinite");
        if (!VectorValidation.InRange(pca._mean, d))
            throw reader.Corrupt("the PCA mean is larger than any vector an index accepts");
        if (pca.InconsistentMatrices() is { } problem) throw reader.Corrupt(problem);
        pca.IsTrained = true;
        return pca;
    }

    // The whitening scale of component i: 1 without whitening, else 1/√(max(0, λᵢ) + ε), or 0 for no variance at all.
    private static double ScaleOf(float eigenvalue, bool whiten, float epsilon)
    {
        double variance = Math.Max(0.0, eigenvalue) + epsilon;
        return !whiten ? 1.0 : variance > 0 ? 1.0 / Math.Sqrt(variance) : 0.0;
    }

    // Train writes forward = R·S·P and backward = R·S⁻¹·P (R orthogonal, P with orthonormal rows, S the scales of the
    // saved eigenvalues and epsilon), so ‖forward‖²_F = Σ sᵢ², ‖backward‖²_F = Σ 1/sᵢ² over sᵢ > 0, and each
    // forwardᵢ · backwardᵢ lies in [0, 1]. Matrices scaled up (a file whose outputs overflow to ∞) or not paired fail.
    private string? InconsistentMatrices()
    {
        int d = InputDimension, k = OutputDimension;
        double forwardExpected = 0, backwardExpected = 0;
        for (int i = 0; i < k; i++)
        {
            double s = ScaleOf(_eigenvalues[i], Whiten, WhiteningEpsilon);
            forwardExpected += s * s;
            if (s > 0) backwardExpected += 1 / (s * s);
        }
        double forward = SquaredNorm(_forward), backward = SquaredNorm(_backward);
        if (!(Math.Abs(forward - forwardExpected) <= 1e-3 * forwardExpected + 1e-12))
            return $"the PCA matrix has squared norm {forward:G6} but its eigenvalues and epsilon give {forwardExpected:G6}";
        if (!(Math.Abs(backward - backwardExpected) <= 1e-3 * backwardExpected + 1e-12))
            return $"the PCA reverse matrix has squared norm {backward:G6} but its eigenvalues and epsilon give {backwardExpected:G6}";
        for (int i = 0; i < k; i++)
        {
            double dot = TensorPrimitives.Dot(_forward.AsSpan(i * d, d), _backward.AsSpan(i * d, d));
            if (!(dot >= -1e-3 && dot <= 1 + 1e-3))
                return $"row {i} of the PCA matrix and of its reverse have dot product {dot:G6}, outside [0, 1]";
        }
        return null;
    }

    private static double SquaredNorm(float[] values)
    {
        double sum = 0;
        foreach (float v in values) sum += (double)v * v;
        return sum;
    }

    internal static float[] ComputeMean(ReadOnlySpan<float> vectors, int rows, int d)
    {
        var sum = new double[d];
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = vectors.Slice(r * d, d);
            for (int j = 0; j < d; j++) sum[j] += row[j];
        }
        var mean = new float[d];
        for (int j = 0; j < d; j++) mean[j] = (float)(sum[j] / rows);
        return mean;
    }

    // Σ (x − μ)(x − μ)ᵀ / n, centred first so that the float accumulation does not lose the variance to the mean.
    private static double[,] ComputeCovariance(ReadOnlySpan<float> vectors, int rows, int d, float[] mean)
    {
        double[] products = MatrixProducts.TransposeMultiply(vectors, vectors, rows, d, d, mean, mean);
        var covariance = new double[d, d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) covariance[i, j] = 0.5 * (products[i * d + j] + products[j * d + i]) / rows;
        return covariance;
    }

    internal static Matrix<double> RandomOrthogonal(int size, int seed)
    {
        var random = new Random(seed);
        var gaussian = Matrix<double>.Build.Dense(size, size, (_, _) =>
            Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        return gaussian.QR().Q;
    }

    internal static float[] ToRowMajor(Matrix<double> matrix)
    {
        var values = new float[matrix.RowCount * matrix.ColumnCount];
        for (int i = 0; i < matrix.RowCount; i++)
            for (int j = 0; j < matrix.ColumnCount; j++) values[i * matrix.ColumnCount + j] = (float)matrix[i, j];
        return values;
    }

    private void RequireTrained()
    {
        if (!IsTrained)
            throw new InvalidOperationException("The PCA transform must be trained first; call Train.");
    }
}
