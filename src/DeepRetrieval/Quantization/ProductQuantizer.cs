using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using DeepRetrieval.Clustering;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Quantization;

/// <summary>
/// Product quantization (Jégou et al. 2011; Faiss's <c>ProductQuantizer</c>): a vector of <see cref="Dimension"/>
/// components is cut into <see cref="SubQuantizers"/> (M) consecutive sub-vectors of <see cref="SubDimension"/>
/// components, and each sub-vector is replaced by the index of its nearest centroid in that subspace's codebook of
/// <see cref="CentroidsPerSubQuantizer"/> (2^bits) entries. A code is therefore M indices of <see cref="BitsPerCode"/>
/// bits, packed into <see cref="CodeSize"/> bytes.
/// </summary>
/// <remarks>
/// <para>Packing follows Faiss: index m occupies bits [m·bits, (m + 1)·bits) of the code, least significant bit
/// first; with 8 bits that is simply one byte per sub-quantizer, and with 4 bits two indices share a byte, the
/// first in the low nibble.</para>
/// <para>Asymmetric distance computation (ADC): for a query, <see cref="ComputeDistanceTable"/> fills an M × 2^bits
/// table of partial squared distances (or inner products) between each query sub-vector and each centroid; the
/// distance to any code is then the sum of M table entries (<see cref="ComputeDistances"/>), with no decoding.</para>
/// <para>Thread safety: after training, encoding, decoding and distance computations may run concurrently.</para>
/// </remarks>
public sealed class ProductQuantizer
{
    private const int MaxDimension = 1 << 20;

    private float[] _centroids = [];

    // The same centroids as [M][dsub][ksub]: one centroid component across the whole codebook is contiguous,
    // so a distance table is built with dsub vectorised passes of length ksub per subspace.
    private float[] _centroidsBySubComponent = [];

    /// <summary>Creates an untrained product quantizer.</summary>
    /// <param name="dimension">Components per vector; positive and a multiple of <paramref name="subQuantizers"/>.</param>
    /// <param name="subQuantizers">Number of subspaces M; positive.</param>
    /// <param name="bitsPerCode">Bits per sub-quantizer index, 4 to 8; each codebook has 2^bits centroids.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range.</exception>
    /// <exception cref="ArgumentException"><paramref name="dimension"/> is not a multiple of <paramref name="subQuantizers"/>.</exception>
    public ProductQuantizer(int dimension, int subQuantizers, int bitsPerCode = 8)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dimension, MaxDimension);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(subQuantizers);
        if (bitsPerCode is < 4 or > 8)
            throw new ArgumentOutOfRangeException(nameof(bitsPerCode), bitsPerCode, $"Bits per code must be between 4 and 8; got {bitsPerCode}.");
        if (dimension % subQuantizers != 0)
            throw new ArgumentException($"The dimension {dimension} must be a multiple of the number of sub-quantizers {subQuantizers}.", nameof(subQuantizers));
        Dimension = dimension;
        SubQuantizers = subQuantizers;
        BitsPerCode = bitsPerCode;
    }

    /// <summary>Components per vector.</summary>
    public int Dimension { get; }

    /// <summary>Number of subspaces (M), each with its own codebook.</summary>
    public int SubQuantizers { get; }

    /// <summary>Bits per sub-quantizer index, 4 to 8.</summary>
    public int BitsPerCode { get; }

    /// <summary>Components per subspace: <see cref="Dimension"/> / <see cref="SubQuantizers"/>.</summary>
    public int SubDimension => Dimension / SubQuantizers;

    /// <summary>Centroids per codebook: 2^<see cref="BitsPerCode"/>.</summary>
    public int CentroidsPerSubQuantizer => 1 << BitsPerCode;

    /// <summary>Bytes per encoded vector: ⌈M · bits / 8⌉.</summary>
    public int CodeSize => (SubQuantizers * BitsPerCode + 7) / 8;

    /// <summary>True once the codebooks are learned.</summary>
    public bool IsTrained { get; private set; }

    /// <summary>The codebooks, row-major [M][2^bits][<see cref="SubDimension"/>] (empty before training).</summary>
    public ReadOnlySpan<float> Centroids => _centroids;

    /// <summary>Number of entries of a distance table: M × 2^bits.</summary>
    public int DistanceTableSize => SubQuantizers * CentroidsPerSubQuantizer;

    /// <summary>
    /// Learns each subspace's codebook by k-means on the training sub-vectors. As in Faiss, at most
    /// 2^bits × <see cref="KMeansOptions.MaxPointsPerCentroid"/> (256 by default) training rows are used: a seeded
    /// uniform sample, the same rows for every subspace.
    /// </summary>
    /// <param name="vectors">Whole rows of finite values; at least 2^bits of them.</param>
    /// <param name="options">k-means settings (iterations, seed, sampling, threads); <see cref="KMeansOptions.K"/> and
    /// <see cref="KMeansOptions.Metric"/> are ignored, since each codebook has 2^bits centroids and is trained with L2. Null for the defaults.</param>
    /// <exception cref="ArgumentException">Partial rows, non-finite values or fewer rows than centroids per codebook.</exception>
    public void Train(ReadOnlySpan<float> vectors, KMeansOptions? options = null) => Train(vectors, options, default);

    /// <summary>
    /// Trains as <see cref="Train(ReadOnlySpan{float}, KMeansOptions?)"/>; non-empty <paramref name="initialCentroids"/>
    /// ([M][2^bits][dsub]) start every subspace's k-means (a hot start, as OPQ's alternation uses). The token is checked
    /// between k-means iterations; <paramref name="trained"/> is told after each sub-quantizer (its number, from 1). A
    /// cancelled training leaves the quantizer as it was.
    /// </summary>
    internal void Train(ReadOnlySpan<float> vectors, KMeansOptions? options, ReadOnlySpan<float> initialCentroids,
        CancellationToken cancellationToken = default, Action<int>? trained = null)
    {
        int rows = CheckRows(vectors, nameof(vectors));
        int ksub = CentroidsPerSubQuantizer;
        if (rows < ksub)
            throw new ArgumentException($"Training a product quantizer with {ksub} centroids per sub-quantizer needs at least {ksub} vectors; got {rows}.", nameof(vectors));
        KMeansOptions settings = (options ?? new KMeansOptions()) with { K = ksub, Metric = Metric.L2, InitialCentroids = null, Spherical = false };

        int[] sampleRows = SampleRows(rows, settings);
        int n = sampleRows.Length, dsub = SubDimension;
        var centroids = new float[SubQuantizers * ksub * dsub];
        var subVectors = new float[n * dsub];
        for (int m = 0; m < SubQuantizers; m++)
        {
            for (int i = 0; i < n; i++)
                vectors.Slice(sampleRows[i] * Dimension + m * dsub, dsub).CopyTo(subVectors.AsSpan(i * dsub, dsub));
            KMeansOptions subspaceSettings = initialCentroids.IsEmpty ? settings
                : settings with { InitialCentroids = initialCentroids.Slice(m * ksub * dsub, ksub * dsub).ToArray() };
            KMeansResult result = new KMeans(subspaceSettings).Train(subVectors, dsub, cancellationToken: cancellationToken);
            result.Centroids.CopyTo(centroids.AsSpan(m * ksub * dsub, ksub * dsub));
            trained?.Invoke(m + 1);
        }
        SetCentroids(centroids);
    }

    /// <summary>Encodes row-major vectors into <see cref="CodeSize"/> bytes each: every sub-vector becomes the index of its nearest centroid (ties go to the lower index).</summary>
    /// <param name="vectors">Whole rows of finite values.</param>
    /// <param name="codes">Receives rows × <see cref="CodeSize"/> bytes.</param>
    /// <exception cref="InvalidOperationException">The quantizer is not trained.</exception>
    /// <exception cref="ArgumentException">Partial rows, non-finite values or a codes buffer too small.</exception>
    public void Encode(ReadOnlySpan<float> vectors, Span<byte> codes)
    {
        RequireTrained();
        int rows = CheckRows(vectors, nameof(vectors));
        long needed = (long)rows * CodeSize;
        if (codes.Length < needed)
            throw new ArgumentException($"The codes buffer must hold {needed} bytes for {rows} vectors; got {codes.Length}.", nameof(codes));
        float[] table = ArrayPool<float>.Shared.Rent(DistanceTableSize);
        try
        {
            for (int r = 0; r < rows; r++)
                EncodeRow(vectors.Slice(r * Dimension, Dimension), codes.Slice(r * CodeSize, CodeSize), table);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(table);
        }
    }

    /// <summary>Decodes codes into the concatenation of their centroids.</summary>
    /// <param name="codes">Whole codes of <see cref="CodeSize"/> bytes.</param>
    /// <param name="vectors">Receives one row of <see cref="Dimension"/> values per code.</param>
    /// <exception cref="InvalidOperationException">The quantizer is not trained.</exception>
    /// <exception cref="ArgumentException">Partial codes or a vectors buffer too small.</exception>
    public void Decode(ReadOnlySpan<byte> codes, Span<float> vectors)
    {
        RequireTrained();
        int rows = CheckCodes(codes, nameof(codes));
        long needed = (long)rows * Dimension;
        if (vectors.Length < needed)
            throw new ArgumentException($"The vectors buffer must hold {needed} values for {rows} codes; got {vectors.Length}.", nameof(vectors));
        for (int r = 0; r < rows; r++)
            DecodeRow(codes.Slice(r * CodeSize, CodeSize), vectors.Slice(r * Dimension, Dimension));
    }

    // For callers that validated lengths and training already (reconstruction, which must not allocate).
    internal void DecodeRow(ReadOnlySpan<byte> code, Span<float> row)
    {
        int dsub = SubDimension, ksub = CentroidsPerSubQuantizer;
        for (int m = 0; m < SubQuantizers; m++)
            _centroids.AsSpan((m * ksub + SubCode(code, m)) * dsub, dsub).CopyTo(row.Slice(m * dsub, dsub));
    }

    /// <summary>
    /// Fills the ADC table of a query: entry [m][c] is the squared L2 distance (<see cref="Metric.L2"/>) or the inner
    /// product (<see cref="Metric.InnerProduct"/>) between sub-vector m of the query and centroid c of codebook m.
    /// Summing the entries a code selects gives the distance to the decoded vector.
    /// </summary>
    /// <param name="query"><see cref="Dimension"/> finite values.</param>
    /// <param name="table">Receives <see cref="DistanceTableSize"/> values, row-major [M][2^bits].</param>
    /// <param name="metric"><see cref="Metric.L2"/> or <see cref="Metric.InnerProduct"/> (normalise vectors yourself for cosine).</param>
    /// <exception cref="InvalidOperationException">The quantizer is not trained.</exception>
    /// <exception cref="ArgumentException">Wrong query length, non-finite values, table too small or an unsupported metric.</exception>
    public void ComputeDistanceTable(ReadOnlySpan<float> query, Span<float> table, Metric metric)
    {
        RequireTrained();
        if (query.Length != Dimension)
            throw new ArgumentException($"The query must have {Dimension} values; got {query.Length}.", nameof(query));
        VectorValidation.CheckValues(query, Dimension, nameof(query), "queries");
        if (table.Length < DistanceTableSize)
            throw new ArgumentException($"The table must hold M × 2^bits = {DistanceTableSize} values; got {table.Length}.", nameof(table));
        if (metric is not (Metric.L2 or Metric.InnerProduct))
            throw new ArgumentException($"Product quantizer tables support Metric.L2 and Metric.InnerProduct; got {metric}. For cosine, normalise the vectors and use InnerProduct.", nameof(metric));
        ComputeDistanceTableUnchecked(query, table, metric);
    }

    /// <summary>
    /// ADC scan: the distance of each code is the sum of the table entries its sub-quantizer indices select.
    /// </summary>
    /// <param name="table">A table from <see cref="ComputeDistanceTable"/>: at least <see cref="DistanceTableSize"/> values.</param>
    /// <param name="codes">Whole codes of <see cref="CodeSize"/> bytes.</param>
    /// <param name="distances">Receives one value per code.</param>
    /// <exception cref="InvalidOperationException">The quantizer is not trained.</exception>
    /// <exception cref="ArgumentException">Table too small, partial codes or a distances buffer too small.</exception>
    public void ComputeDistances(ReadOnlySpan<float> table, ReadOnlySpan<byte> codes, Span<float> distances)
    {
        RequireTrained();
        if (table.Length < DistanceTableSize)
            throw new ArgumentException($"The table must hold M × 2^bits = {DistanceTableSize} values; got {table.Length}.", nameof(table));
        int rows = CheckCodes(codes, nameof(codes));
        if (distances.Length < rows)
            throw new ArgumentException($"The distances buffer must hold {rows} values, one per code; got {distances.Length}.", nameof(distances));
        ComputeDistancesUnchecked(table, codes, distances[..rows]);
    }

    /// <summary>Index of sub-quantizer <paramref name="m"/>'s centroid in <paramref name="code"/>.</summary>
    /// <param name="code">A code of <see cref="CodeSize"/> bytes.</param>
    /// <param name="m">Zero-based subspace, below <see cref="SubQuantizers"/>.</param>
    public int GetSubCode(ReadOnlySpan<byte> code, int m)
    {
        if (code.Length != CodeSize)
            throw new ArgumentException($"The code must have {CodeSize} bytes; got {code.Length}.", nameof(code));
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(m, SubQuantizers);
        return SubCode(code, m);
    }

    // For callers that validated the query, its length and the table size (index search loops).
    internal void ComputeDistanceTableUnchecked(ReadOnlySpan<float> query, Span<float> table, Metric metric)
    {
        int dsub = SubDimension, ksub = CentroidsPerSubQuantizer;
        if (ProductQuantizerScan.TryTable(_centroidsBySubComponent, query, table, SubQuantizers, dsub, ksub, metric == Metric.L2))
            return;
        ReadOnlySpan<float> byComponent = _centroidsBySubComponent;
        Span<float> difference = stackalloc float[ksub];
        for (int m = 0; m < SubQuantizers; m++)
        {
            Span<float> row = table.Slice(m * ksub, ksub);
            ReadOnlySpan<float> block = byComponent.Slice(m * dsub * ksub, dsub * ksub);
            row.Clear();
            if (metric == Metric.L2)
            {
                for (int t = 0; t < dsub; t++)
                {
                    TensorPrimitives.Subtract(block.Slice(t * ksub, ksub), query[m * dsub + t], difference);
                    TensorPrimitives.MultiplyAdd(difference, difference, row, row);
                }
            }
            else
            {
                for (int t = 0; t < dsub; t++)
                    TensorPrimitives.MultiplyAdd(block.Slice(t * ksub, ksub), query[m * dsub + t], row, row);
            }
        }
    }

    internal void ComputeDistancesUnchecked(ReadOnlySpan<float> table, ReadOnlySpan<byte> codes, Span<float> distances)
    {
        switch (BitsPerCode)
        {
            case 8:
                ProductQuantizerScan.Scan8(table, codes, distances, SubQuantizers);
                break;
            case 4:
                ProductQuantizerScan.Scan4(table, codes, distances, SubQuantizers);
                break;
            default:
                for (int i = 0; i < distances.Length; i++)
                    distances[i] = DistanceUnchecked(table, codes.Slice(i * CodeSize, CodeSize));
                break;
        }
    }

    /// <summary>ADC distance of one code; no checks.</summary>
    internal float DistanceUnchecked(ReadOnlySpan<float> table, ReadOnlySpan<byte> code)
    {
        int ksub = CentroidsPerSubQuantizer;
        float sum = 0f;
        for (int m = 0; m < SubQuantizers; m++) sum += table[m * ksub + SubCode(code, m)];
        return sum;
    }

    /// <summary>Encodes one validated row using <paramref name="table"/> (at least <see cref="DistanceTableSize"/> floats) as scratch.</summary>
    internal void EncodeRow(ReadOnlySpan<float> x, Span<byte> code, Span<float> table)
    {
        int ksub = CentroidsPerSubQuantizer;
        ComputeDistanceTableUnchecked(x, table, Metric.L2);
        code.Clear();
        for (int m = 0; m < SubQuantizers; m++)
            SetSubCode(code, m, TensorPrimitives.IndexOfMin(table.Slice(m * ksub, ksub)));
    }

    /// <summary>Writes the shape and the codebooks.</summary>
    internal void WriteTo(IndexPayloadWriter writer)
    {
        RequireTrained();
        writer.WriteInt32(Dimension);
        writer.WriteInt32(SubQuantizers);
        writer.WriteInt32(BitsPerCode);
        writer.WriteSpan<float>(_centroids);
    }

    /// <summary>Reads what <see cref="WriteTo"/> wrote, checking every parameter.</summary>
    /// <param name="reader">The payload reader.</param>
    /// <param name="dimension">The dimension the container expects.</param>
    internal static ProductQuantizer ReadFrom(IndexPayloadReader reader, int dimension)
    {
        int stored = reader.ReadInt32("product quantizer dimension", 1, MaxDimension);
        if (stored != dimension)
            throw reader.Corrupt($"the product quantizer has dimension {stored} but the index has dimension {dimension}");
        int m = reader.ReadInt32("sub-quantizer count", 1, dimension);
        if (dimension % m != 0)
            throw reader.Corrupt($"the dimension {dimension} is not a multiple of the sub-quantizer count {m}");
        int bits = reader.ReadInt32("bits per code", 4, 8);
        var quantizer = new ProductQuantizer(dimension, m, bits);
        float[] centroids = reader.ReadArray<float>((long)(1 << bits) * dimension, "product quantizer centroids");
        if (!FiniteValues.All(centroids))
            throw reader.Corrupt("a product quantizer centroid is NaN or infinite");
        quantizer.SetCentroids(centroids);
        return quantizer;
    }

    internal void SetCentroids(float[] centroids)
    {
        int dsub = SubDimension, ksub = CentroidsPerSubQuantizer;
        var byComponent = new float[centroids.Length];
        for (int m = 0; m < SubQuantizers; m++)
            for (int c = 0; c < ksub; c++)
                for (int t = 0; t < dsub; t++)
                    byComponent[(m * dsub + t) * ksub + c] = centroids[(m * ksub + c) * dsub + t];
        _centroids = centroids;
        _centroidsBySubComponent = byComponent;
        IsTrained = true;
    }

    internal void RequireTrained()
    {
        if (!IsTrained)
            throw new InvalidOperationException("The product quantizer must be trained first; call Train.");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int SubCode(ReadOnlySpan<byte> code, int m)
    {
        int bits = BitsPerCode;
        if (bits == 8) return code[m];
        int bit = m * bits, index = bit >> 3, shift = bit & 7;
        int value = code[index] >> shift;
        if (shift + bits > 8) value |= code[index + 1] << (8 - shift);
        return value & ((1 << bits) - 1);
    }

    private void SetSubCode(Span<byte> code, int m, int value)
    {
        int bits = BitsPerCode;
        if (bits == 8)
        {
            code[m] = (byte)value;
            return;
        }
        int bit = m * bits, index = bit >> 3, shift = bit & 7;
        code[index] |= (byte)(value << shift);
        if (shift + bits > 8) code[index + 1] |= (byte)(value >> (8 - shift));
    }

    private int[] SampleRows(int rows, KMeansOptions settings)
    {
        long limit = (long)CentroidsPerSubQuantizer * settings.MaxPointsPerCentroid;
        if (rows <= limit)
        {
            var all = new int[rows];
            for (int i = 0; i < rows; i++) all[i] = i;
            return all;
        }
        int[] sample = KMeansSeeding.SampleDistinct(rows, (int)limit, new Random(settings.Seed));
        Array.Sort(sample);
        return sample;
    }

    private int CheckRows(ReadOnlySpan<float> vectors, string parameterName) => VectorValidation.CheckRows(vectors, Dimension, parameterName);

    private int CheckCodes(ReadOnlySpan<byte> codes, string parameterName)
    {
        if (codes.Length % CodeSize != 0)
            throw new ArgumentException($"Expected whole codes of {CodeSize} bytes, but got {codes.Length} bytes.", parameterName);
        return codes.Length / CodeSize;
    }
}
