using System.Buffers;
using System.Numerics.Tensors;
using DeepRetrieval.Clustering;
using DeepRetrieval.Persistence;
using DeepRetrieval.Quantization;
using MathNet.Numerics.LinearAlgebra;

namespace DeepRetrieval.Transforms;

/// <summary>
/// Optimized product quantization rotation (Ge et al. 2013, non-parametric OPQ; Faiss's <c>OPQMatrix</c>): learns an
/// orthogonal map that lowers the reconstruction error of a product quantizer with <see cref="SubQuantizers"/>
/// subspaces applied after it. Put it in front of a PQ index (or IVF-PQ) with the same M.
/// </summary>
/// <remarks>
/// <para>Training alternates two steps, starting from a seeded random rotation A (the first
/// <see cref="IVectorTransform.OutputDimension"/> rows of a random orthogonal matrix): (1) rotate the training vectors,
/// <c>Y = X Aᵀ</c>, train a product quantizer on Y (40 k-means iterations the first time, then 4, each time starting
/// from the previous codebooks) and decode its codes into <c>Ŷ</c>; (2) solve the orthogonal Procrustes problem
/// <c>min ‖X Aᵀ − Ŷ‖</c> over matrices with orthonormal rows: with <c>Xᵀ Ŷ = U S Vᵀ</c>, <c>Aᵀ = U Vᵀ</c>. Neither
/// step can raise the quantization error, so <see cref="TrainingErrors"/> falls (up to k-means noise).</para>
/// <para>As in Faiss the vectors are not centred, and at most <see cref="MaxTrainingVectors"/> training vectors (a
/// seeded sample) are used. Training costs <see cref="Iterations"/> × (a d × d' SVD + two n × d × d' products + a
/// short PQ training).</para>
/// <para>Thread safety: after training, <see cref="Apply"/> and <see cref="ReverseTransform"/> may run concurrently.</para>
/// </remarks>
public sealed class OpqTransform : IReversibleVectorTransform
{
    /// <summary>The kind name used in index files and factory strings.</summary>
    public const string KindName = "OPQ";

    private const int MaxDimension = 1 << 16;
    private const int FirstPqIterations = 40; // Faiss's niter_pq_0
    private const int PqIterations = 4;       // Faiss's niter_pq

    private float[] _rotation = []; // [out][in], orthonormal rows
    private double[] _errors = [];

    /// <summary>Creates an untrained OPQ rotation.</summary>
    /// <param name="inputDimension">Components of an input vector; positive.</param>
    /// <param name="subQuantizers">M of the product quantizer that follows; must divide the output dimension.</param>
    /// <param name="outputDimension">Components of an output vector, 1 to <paramref name="inputDimension"/>; 0 for the input dimension.</param>
    /// <param name="bitsPerCode">Bits per sub-quantizer index of the product quantizer trained inside (4 to 8); match the PQ that follows.</param>
    /// <param name="iterations">Alternations of PQ training and rotation update; positive (Faiss uses 50).</param>
    /// <param name="seed">Seeds the initial rotation, the training sample and k-means.</param>
    /// <exception cref="ArgumentException">A parameter is out of range or M does not divide the output dimension.</exception>
    public OpqTransform(int inputDimension, int subQuantizers, int outputDimension = 0, int bitsPerCode = 8, int iterations = 50, int seed = 1234)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputDimension);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(inputDimension, MaxDimension);
        ArgumentOutOfRangeException.ThrowIfNegative(outputDimension);
        if (outputDimension == 0) outputDimension = inputDimension;
        if (outputDimension > inputDimension)
            throw new ArgumentOutOfRangeException(nameof(outputDimension), outputDimension, $"OPQ outputs at most the input dimension {inputDimension} components; got {outputDimension}.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(subQuantizers);
        if (outputDimension % subQuantizers != 0)
            throw new ArgumentException($"The output dimension {outputDimension} must be a multiple of the number of sub-quantizers {subQuantizers}.", nameof(subQuantizers));
        if (bitsPerCode is < 4 or > 8)
            throw new ArgumentOutOfRangeException(nameof(bitsPerCode), bitsPerCode, $"Bits per code must be between 4 and 8; got {bitsPerCode}.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(iterations);
        InputDimension = inputDimension;
        OutputDimension = outputDimension;
        SubQuantizers = subQuantizers;
        BitsPerCode = bitsPerCode;
        Iterations = iterations;
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

    /// <summary>M of the product quantizer the rotation is optimised for.</summary>
    public int SubQuantizers { get; }

    /// <summary>Bits per index of the product quantizer trained inside.</summary>
    public int BitsPerCode { get; }

    /// <summary>Alternations of PQ training and rotation update.</summary>
    public int Iterations { get; }

    /// <summary>Seed of the initial rotation, the training sample and k-means.</summary>
    public int Seed { get; }

    /// <summary>Training uses a seeded sample of at most this many vectors (Faiss: 256 × 256); positive.</summary>
    public int MaxTrainingVectors { get; init; } = 65536;

    /// <summary>The learned map, row-major <see cref="IVectorTransform.OutputDimension"/> × <see cref="IVectorTransform.InputDimension"/> with orthonormal rows (empty before training).</summary>
    public ReadOnlySpan<float> Rotation => _rotation;

    /// <summary>
    /// Mean squared PQ reconstruction error of the rotated training vectors at each iteration, measured before that
    /// iteration's rotation update (empty before training and after loading).
    /// </summary>
    public IReadOnlyList<double> TrainingErrors => Array.AsReadOnly(_errors);

    /// <inheritdoc />
    /// <remarks>Needs at least 2^<see cref="BitsPerCode"/> rows, the product quantizer's centroid count.</remarks>
    public void Train(ReadOnlySpan<float> vectors)
    {
        int rows = TransformRows.Check(vectors, InputDimension, nameof(vectors));
        int ksub = 1 << BitsPerCode;
        if (rows < ksub)
            throw new ArgumentException($"OPQ with {ksub} centroids per sub-quantizer needs at least {ksub} training vectors; got {rows}.", nameof(vectors));
        if (MaxTrainingVectors <= 0)
            throw new InvalidOperationException($"MaxTrainingVectors must be positive; got {MaxTrainingVectors}.");
        float[] x = Sample(vectors, rows, out int n);
        int d = InputDimension, d2 = OutputDimension;

        Matrix<double> initial = PcaTransform.RandomOrthogonal(d, Seed);
        float[] rotation = PcaTransform.ToRowMajor(initial.SubMatrix(0, d2, 0, d));
        var rotated = new float[(long)n * d2];
        var decoded = new float[(long)n * d2];
        var codes = new byte[(long)n * ((SubQuantizers * BitsPerCode + 7) / 8)];
        var errors = new double[Iterations];
        float[]? centroids = null;
        for (int iteration = 0; iteration < Iterations; iteration++)
        {
            MatrixProducts.MultiplyByTranspose(x, rotation, n, d, d2, rotated);
            var pq = new ProductQuantizer(d2, SubQuantizers, BitsPerCode);
            var options = new KMeansOptions
            {
                Iterations = iteration == 0 ? FirstPqIterations : PqIterations,
                Seed = Seed,
                MaxPointsPerCentroid = int.MaxValue, // the sample is already bounded
            };
            pq.Train(rotated, options, centroids);
            centroids = pq.Centroids.ToArray();
            pq.Encode(rotated, codes);
            pq.Decode(codes, decoded);
            errors[iteration] = SquaredDistance(rotated, decoded) / n;

            // Procrustes: Aᵀ = U Vᵀ from the thin SVD of Xᵀ Ŷ (d × d2).
            double[] cross = MatrixProducts.TransposeMultiply(x, decoded, n, d, d2);
            var svd = Matrix<double>.Build.Dense(d2, d, cross).Transpose().Svd(computeVectors: true);
            Matrix<double> u = svd.U.SubMatrix(0, d, 0, d2);
            Matrix<double> rotationTransposed = u * svd.VT;
            rotation = PcaTransform.ToRowMajor(rotationTransposed.Transpose());
        }

        _rotation = rotation;
        _errors = errors;
        IsTrained = true;
    }

    /// <inheritdoc />
    public void Apply(ReadOnlySpan<float> input, Span<float> output)
    {
        RequireTrained();
        int rows = TransformRows.CheckPair(input, output, InputDimension, OutputDimension);
        MatrixProducts.MultiplyByTranspose(input, _rotation, rows, InputDimension, OutputDimension, output);
    }

    /// <summary>
    /// Maps rotated vectors back with the transpose of the rotation (Faiss's <c>reverse_transform</c>): the exact
    /// inverse when the output dimension equals the input dimension, otherwise the embedding of the kept subspace.
    /// </summary>
    /// <param name="input">Rows of <see cref="IVectorTransform.OutputDimension"/> values.</param>
    /// <param name="output">Receives as many rows of <see cref="IVectorTransform.InputDimension"/> values.</param>
    /// <exception cref="InvalidOperationException">The transform is not trained.</exception>
    /// <exception cref="ArgumentException">The spans are not whole rows or their row counts differ.</exception>
    public void ReverseTransform(ReadOnlySpan<float> input, Span<float> output)
    {
        RequireTrained();
        TransformRows.CheckPair(input, output, OutputDimension, InputDimension);
        TransformRows.CombineRows(input, output, _rotation, [], OutputDimension, InputDimension);
    }

    /// <inheritdoc />
    public void Write(IndexPayloadWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        RequireTrained();
        writer.WriteInt32(InputDimension);
        writer.WriteInt32(OutputDimension);
        writer.WriteInt32(SubQuantizers);
        writer.WriteInt32(BitsPerCode);
        writer.WriteInt32(Iterations);
        writer.WriteInt32(Seed);
        writer.WriteSpan<float>(_rotation);
    }

    /// <summary>Reads what <see cref="Write"/> wrote, checking every parameter and that the rows are orthonormal.</summary>
    internal static OpqTransform Read(IndexPayloadReader reader)
    {
        int d = reader.ReadInt32("OPQ input dimension", 1, MaxDimension);
        int d2 = reader.ReadInt32("OPQ output dimension", 1, d);
        int m = reader.ReadInt32("OPQ sub-quantizer count", 1, d2);
        if (d2 % m != 0) throw reader.Corrupt($"the OPQ output dimension {d2} is not a multiple of the sub-quantizer count {m}");
        int bits = reader.ReadInt32("OPQ bits per code", 4, 8);
        int iterations = reader.ReadInt32("OPQ iterations", 1, int.MaxValue);
        int seed = reader.ReadInt32();
        var opq = new OpqTransform(d, m, d2, bits, iterations, seed) { _rotation = reader.ReadArray<float>((long)d2 * d, "OPQ rotation") };
        for (int i = 0; i < d2; i++)
        {
            float norm = TensorPrimitives.Norm(opq._rotation.AsSpan(i * d, d));
            if (!(Math.Abs(norm - 1f) < 1e-3f)) throw reader.Corrupt($"row {i} of the OPQ rotation has norm {norm}, not 1");
        }
        opq.IsTrained = true;
        return opq;
    }

    private float[] Sample(ReadOnlySpan<float> vectors, int rows, out int count)
    {
        int d = InputDimension;
        if (rows <= MaxTrainingVectors)
        {
            count = rows;
            return vectors.ToArray();
        }
        count = MaxTrainingVectors;
        int[] chosen = KMeansSeeding.SampleDistinct(rows, count, new Random(Seed));
        Array.Sort(chosen);
        var sample = new float[(long)count * d];
        for (int i = 0; i < count; i++) vectors.Slice(chosen[i] * d, d).CopyTo(sample.AsSpan(i * d, d));
        return sample;
    }

    private static double SquaredDistance(float[] a, float[] b)
    {
        double total = 0;
        const int chunk = 1 << 16;
        float[] difference = ArrayPool<float>.Shared.Rent(chunk);
        try
        {
            for (int first = 0; first < a.Length; first += chunk)
            {
                int length = Math.Min(chunk, a.Length - first);
                Span<float> diff = difference.AsSpan(0, length);
                TensorPrimitives.Subtract(a.AsSpan(first, length), b.AsSpan(first, length), diff);
                total += TensorPrimitives.Dot(diff, diff);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(difference);
        }
        return total;
    }

    private void RequireTrained()
    {
        if (!IsTrained)
            throw new InvalidOperationException("The OPQ transform must be trained first; call Train.");
    }
}
