using System.Buffers;
using System.Numerics.Tensors;
using DeepRetrieval.Persistence;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace DeepRetrieval.Transforms;

/// <summary>
/// Iterative quantization (Gong &amp; Lazebnik 2011; Faiss's <c>ITQTransform</c>, factory <c>ITQ&lt;b&gt;</c>): centres
/// vectors, projects them on their top <see cref="OutputDimension"/> principal components and rotates the result so
/// that taking signs loses as little as possible. Followed by a binary index (<c>ITQ64,BFlat</c>) or
/// <c>ItqEncoder</c> (DeepRetrieval.Hashing), it gives b-bit codes whose Hamming distances track Euclidean distances far better
/// than random hyperplanes of the same length.
/// </summary>
/// <remarks>
/// <para>Training: with V the centred training data projected on the principal components (n × b), ITQ minimises the
/// quantisation loss ‖B − V R‖²_F over codes B ∈ {−1, +1}^(n×b) and orthogonal rotations R. It starts from a seeded
/// random rotation and alternates B = sign(V R) with the orthogonal Procrustes solution R = U Wᵀ, where
/// Vᵀ B = U Σ Wᵀ is a singular value decomposition, for <see cref="Iterations"/> rounds. Neither step can raise the loss,
/// so <see cref="QuantizationLoss"/> never increases.</para>
/// <para>Cost: a d × d covariance over the training rows, one eigendecomposition, then per iteration two n × b × b
/// products. Train on a sample (tens of thousands of rows is plenty).</para>
/// <para>Apply computes y = (x − mean) · P · R, b outputs per row; the transform itself is linear and keeps floats.
/// Thread safety: after training, <see cref="Apply"/> and <see cref="ReverseTransform"/> may run concurrently.</para>
/// </remarks>
public sealed class ItqTransform : IReversibleVectorTransform
{
    /// <summary>The kind name used in index files and factory strings.</summary>
    public const string KindName = "ITQ";

    private const int MaxDimension = 1 << 16;
    private const int MaxIterations = 100_000;
    private const int CovarianceChunkRows = 1024;

    private float[] _mean = [];
    private float[] _components = []; // b rows of d: the principal directions, largest variance first
    private float[] _rotation = []; // b × b, row-major: output j = Σ_k (projection on component k) · R[k, j]
    private float[] _projection = []; // b rows of d: component-and-rotation combined, what Apply multiplies by
    private double[] _loss = [];

    /// <summary>Creates an untrained transform.</summary>
    /// <param name="inputDimension">Components of an input vector; positive.</param>
    /// <param name="outputDimension">Components kept (the code length in bits); from 1 to <paramref name="inputDimension"/>.</param>
    /// <param name="iterations">Alternating rounds; 50 as in the paper and Faiss. Zero keeps the random initial rotation.</param>
    /// <param name="seed">Seed of the random initial rotation.</param>
    public ItqTransform(int inputDimension, int outputDimension, int iterations = 50, int seed = 1234)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputDimension);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(inputDimension, MaxDimension);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputDimension);
        if (outputDimension > inputDimension)
            throw new ArgumentOutOfRangeException(nameof(outputDimension), outputDimension, $"ITQ keeps at most as many components as the input has ({inputDimension}).");
        ArgumentOutOfRangeException.ThrowIfNegative(iterations);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(iterations, MaxIterations);
        InputDimension = inputDimension;
        OutputDimension = outputDimension;
        Iterations = iterations;
        Seed = seed;
    }

    /// <inheritdoc />
    public int InputDimension { get; }

    /// <inheritdoc />
    public int OutputDimension { get; }

    /// <summary>Alternating rounds run by <see cref="Train"/>.</summary>
    public int Iterations { get; }

    /// <summary>Seed of the random initial rotation.</summary>
    public int Seed { get; }

    /// <inheritdoc />
    public bool IsTrained { get; private set; }

    /// <inheritdoc />
    public string Kind => KindName;

    /// <summary>The training mean (empty before training).</summary>
    public ReadOnlySpan<float> Mean => _mean;

    /// <summary>The principal directions, <see cref="OutputDimension"/> rows of <see cref="InputDimension"/> values (empty before training).</summary>
    public ReadOnlySpan<float> Components => _components;

    /// <summary>The learned orthogonal rotation, <see cref="OutputDimension"/> × <see cref="OutputDimension"/> row-major (empty before training).</summary>
    public ReadOnlySpan<float> Rotation => _rotation;

    /// <summary>
    /// The quantisation loss min_B ‖B − V R‖² per training vector for the initial rotation and after each iteration
    /// (<see cref="Iterations"/> + 1 values, never increasing). Known only in the process that trained; empty after loading.
    /// </summary>
    public IReadOnlyList<double> QuantizationLoss => _loss;

    /// <summary>The loss per training vector that PCA followed by sign (no rotation, R = I) would have; NaN unless trained in this process.</summary>
    public double PcaSignLoss { get; private set; } = double.NaN;

    /// <inheritdoc />
    public void Train(ReadOnlySpan<float> vectors)
    {
        int n = CheckRows(vectors, nameof(vectors));
        if (n < 2) throw new ArgumentException($"ITQ needs at least 2 training vectors to estimate principal components; got {n}.", nameof(vectors));
        int d = InputDimension, b = OutputDimension;

        var mean = new double[d];
        for (int r = 0; r < n; r++)
        {
            ReadOnlySpan<float> row = vectors.Slice(r * d, d);
            for (int j = 0; j < d; j++) mean[j] += row[j];
        }
        for (int j = 0; j < d; j++) mean[j] /= n;

        // The covariance is accumulated a chunk of rows at a time so training never holds an n × d double matrix.
        Matrix<double> covariance = Matrix<double>.Build.Dense(d, d);
        for (int start = 0; start < n; start += CovarianceChunkRows)
        {
            int m = Math.Min(CovarianceChunkRows, n - start);
            Matrix<double> chunk = Centred(vectors, start, m, mean);
            covariance += chunk.TransposeThisAndMultiply(chunk);
        }
        covariance /= n - 1;

        Evd<double> evd = covariance.Evd(Symmetricity.Symmetric);
        int[] order = Enumerable.Range(0, d).OrderByDescending(i => evd.EigenValues[i].Real).ThenBy(i => i).ToArray();
        Matrix<double> components = Matrix<double>.Build.Dense(d, b);
        for (int k = 0; k < b; k++)
        {
            Vector<double> column = evd.EigenVectors.Column(order[k]);
            // An eigenvector's sign is arbitrary; fixing it makes training reproducible across linear-algebra providers.
            if (column[column.AbsoluteMaximumIndex()] < 0) column = -column;
            components.SetColumn(k, column);
        }

        // V, the centred data on the components, row-major n × b: the alternation below works on plain arrays with
        // vectorised dot products, which is many times faster than general matrix products for these thin shapes.
        var v = new double[(long)n * b <= Array.MaxLength ? n * b : throw new ArgumentException($"{n} training vectors × {b} outputs exceed the largest array; train on a sample.", nameof(vectors))];
        for (int start = 0; start < n; start += CovarianceChunkRows)
        {
            int m = Math.Min(CovarianceChunkRows, n - start);
            Matrix<double> projected = Centred(vectors, start, m, mean) * components;
            for (int r = 0; r < m; r++)
                for (int k = 0; k < b; k++) v[(start + r) * b + k] = projected[r, k];
        }

        Matrix<double> rotation = RandomRotation(b, Seed);
        var loss = new double[Iterations + 1];
        var signs = new double[n * b];
        var rotationColumns = new double[b * b]; // column j of R as row j, so output j is one dot product
        var correlation = new double[b * b]; // Vᵀ B, row-major
        for (int t = 0; ; t++)
        {
            for (int j = 0; j < b; j++)
                for (int k = 0; k < b; k++) rotationColumns[j * b + k] = rotation[k, j];
            loss[t] = RotatedSignLoss(v, rotationColumns, signs, n, b) / n;
            if (t == Iterations) break;
            Array.Clear(correlation);
            for (int r = 0; r < n; r++)
            {
                ReadOnlySpan<double> signRow = signs.AsSpan(r * b, b);
                for (int k = 0; k < b; k++)
                {
                    Span<double> target = correlation.AsSpan(k * b, b);
                    TensorPrimitives.MultiplyAdd(signRow, v[r * b + k], target, target);
                }
            }
            // Orthogonal Procrustes: the rotation closest to mapping V onto B.
            Svd<double> svd = Matrix<double>.Build.Dense(b, b, (k, j) => correlation[k * b + j]).Svd(computeVectors: true);
            rotation = svd.U * svd.VT;
        }

        var identity = new double[b * b];
        for (int k = 0; k < b; k++) identity[k * b + k] = 1;
        PcaSignLoss = RotatedSignLoss(v, identity, signs, n, b) / n;
        _mean = mean.Select(x => (float)x).ToArray();
        _components = ToRows(components.Transpose());
        _rotation = ToRows(rotation);
        _loss = loss;
        _projection = Combine(_components, _rotation, d, b);
        IsTrained = true;
    }

    /// <inheritdoc />
    public void Apply(ReadOnlySpan<float> input, Span<float> output)
    {
        if (!IsTrained) throw new InvalidOperationException("The ITQ transform must be trained before it is applied; call Train first.");
        int rows = CheckRows(input, nameof(input));
        if (output.Length != (long)rows * OutputDimension)
            throw new ArgumentException($"{rows} input rows need {(long)rows * OutputDimension} output values ({OutputDimension} per row); got {output.Length}.", nameof(output));
        int d = InputDimension, b = OutputDimension;
        float[] scratch = ArrayPool<float>.Shared.Rent(d);
        try
        {
            Span<float> centred = scratch.AsSpan(0, d);
            for (int r = 0; r < rows; r++)
            {
                TensorPrimitives.Subtract(input.Slice(r * d, d), _mean, centred);
                Span<float> y = output.Slice(r * b, b);
                for (int j = 0; j < b; j++)
                    y[j] = TensorPrimitives.Dot(centred, _projection.AsSpan(j * d, d));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// Maps outputs back to the input space: x = mean + Σⱼ yⱼ · pⱼ, where the rows pⱼ of the combined projection are
    /// orthonormal (principal directions under an orthogonal rotation). For a vector of the training distribution the
    /// result is its projection onto the kept principal subspace.
    /// </summary>
    /// <param name="input">Rows of <see cref="OutputDimension"/> values.</param>
    /// <param name="output">Receives as many rows of <see cref="InputDimension"/> values.</param>
    /// <exception cref="InvalidOperationException">The transform is not trained.</exception>
    /// <exception cref="ArgumentException">The spans are not whole rows or their row counts differ.</exception>
    public void ReverseTransform(ReadOnlySpan<float> input, Span<float> output)
    {
        if (!IsTrained) throw new InvalidOperationException("The ITQ transform must be trained before it is reversed; call Train first.");
        TransformRows.CheckPair(input, output, OutputDimension, InputDimension);
        TransformRows.CombineRows(input, output, _projection, _mean, OutputDimension, InputDimension);
    }

    /// <inheritdoc />
    public void Write(IndexPayloadWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteInt32(InputDimension);
        writer.WriteInt32(OutputDimension);
        writer.WriteInt32(Iterations);
        writer.WriteInt32(Seed);
        writer.WriteInt32(IsTrained ? 1 : 0);
        if (!IsTrained) return;
        writer.WriteSpan<float>(_mean);
        writer.WriteSpan<float>(_components);
        writer.WriteSpan<float>(_rotation);
    }

    /// <summary>Reads a transform written by <see cref="Write"/>.</summary>
    internal static ItqTransform Read(IndexPayloadReader reader)
    {
        int d = reader.ReadInt32("ITQ input dimension", 1, MaxDimension);
        int b = reader.ReadInt32("ITQ output dimension", 1, d);
        int iterations = reader.ReadInt32("ITQ iterations", 0, MaxIterations);
        int seed = reader.ReadInt32();
        bool trained = reader.ReadInt32("ITQ trained flag", 0, 1) == 1;
        var transform = new ItqTransform(d, b, iterations, seed);
        if (!trained) return transform;
        float[] mean = reader.ReadArray<float>(d, "ITQ mean");
        float[] components = reader.ReadArray<float>((long)b * d, "ITQ components");
        float[] rotation = reader.ReadArray<float>((long)b * b, "ITQ rotation");
        if (!FiniteValues.All(mean) || !FiniteValues.All(components) || !FiniteValues.All(rotation))
            throw reader.Corrupt("the ITQ mean, components or rotation hold a non-finite value");
        if (!VectorValidation.InRange(mean, d))
            throw reader.Corrupt("the ITQ mean is larger than any vector a transform accepts");
        // The rotation's rows and the components (principal directions) are unit vectors; anything else was not written
        // by Train, and scaled-up rows would map ordinary vectors to ∞.
        for (int k = 0; k < b; k++)
        {
            float norm = TensorPrimitives.Norm(rotation.AsSpan(k * b, b));
            if (!(MathF.Abs(norm - 1f) <= 1e-3f)) throw reader.Corrupt($"row {k} of the ITQ rotation has length {norm}, not 1");
            norm = TensorPrimitives.Norm(components.AsSpan(k * d, d));
            if (!(MathF.Abs(norm - 1f) <= 1e-3f)) throw reader.Corrupt($"ITQ component {k} has length {norm}, not 1");
        }
        transform._mean = mean;
        transform._components = components;
        transform._rotation = rotation;
        transform._projection = Combine(components, rotation, d, b);
        transform.IsTrained = true;
        return transform;
    }

    // Fills signs with sign(V R) (0 counts as +1) and returns ‖signs − V R‖²_F: the smallest loss any ±1 codes can have
    // for this rotation. rotationColumns holds column j of R as row j.
    private static double RotatedSignLoss(double[] v, double[] rotationColumns, double[] signs, int n, int b)
    {
        double loss = 0;
        for (int r = 0; r < n; r++)
        {
            ReadOnlySpan<double> row = v.AsSpan(r * b, b);
            for (int j = 0; j < b; j++)
            {
                double value = TensorPrimitives.Dot(row, rotationColumns.AsSpan(j * b, b));
                double sign = value >= 0 ? 1 : -1;
                signs[r * b + j] = sign;
                loss += (sign - value) * (sign - value);
            }
        }
        return loss;
    }

    private Matrix<double> Centred(ReadOnlySpan<float> vectors, int start, int rows, double[] mean)
    {
        int d = InputDimension;
        Matrix<double> chunk = Matrix<double>.Build.Dense(rows, d);
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = vectors.Slice((start + r) * d, d);
            for (int j = 0; j < d; j++) chunk[r, j] = row[j] - mean[j];
        }
        return chunk;
    }

    private static Matrix<double> RandomRotation(int size, int seed)
    {
        var random = new Random(seed);
        Matrix<double> gaussian = Matrix<double>.Build.Dense(size, size,
            (_, _) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        // The Q factor of a Gaussian matrix is a random orthogonal matrix.
        return gaussian.QR().Q;
    }

    // Output j of Apply is Σ_k R[k, j] · (components row k): precomputed so Apply is one dot product per output.
    private static float[] Combine(float[] components, float[] rotation, int d, int b)
    {
        var projection = new float[b * d];
        var row = new double[d];
        for (int j = 0; j < b; j++)
        {
            Array.Clear(row);
            for (int k = 0; k < b; k++)
            {
                double weight = rotation[k * b + j];
                for (int i = 0; i < d; i++) row[i] += weight * components[k * d + i];
            }
            for (int i = 0; i < d; i++) projection[j * d + i] = (float)row[i];
        }
        return projection;
    }

    private static float[] ToRows(Matrix<double> matrix)
    {
        var values = new float[matrix.RowCount * matrix.ColumnCount];
        for (int r = 0; r < matrix.RowCount; r++)
            for (int c = 0; c < matrix.ColumnCount; c++)
                values[r * matrix.ColumnCount + c] = (float)matrix[r, c];
        return values;
    }

    private int CheckRows(ReadOnlySpan<float> vectors, string parameterName) => VectorValidation.CheckRows(vectors, InputDimension, parameterName);
}
