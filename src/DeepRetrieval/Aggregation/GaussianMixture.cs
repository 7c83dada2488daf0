using System.Diagnostics;
using DeepRetrieval.Clustering;
using DeepRetrieval.Persistence;
using DeepRetrieval.Transforms;

namespace DeepRetrieval.Aggregation;

/// <summary>
/// A Gaussian mixture with diagonal covariances, the generative model of Fisher vectors (Perronnin &amp; Dance, CVPR
/// 2007). <see cref="Train"/> runs expectation–maximisation as scikit-learn's diagonal <c>GaussianMixture</c> does:
/// responsibilities initialised from a seeded k-means, then alternating E- and M-steps until the mean log-likelihood
/// changes by less than the tolerance, with variances floored (<see cref="GaussianMixtureOptions.VarianceFloor"/>).
/// </summary>
/// <remarks>
/// The E-step evaluates all K log-densities of a block of points as one matrix product (Σ x²/σ² − 2 x μ/σ² expanded,
/// in coordinates centred on the mean of the component means to keep float rounding small), so training and Fisher
/// encoding run at matrix-multiply speed. Immutable; posteriors may be computed from several threads.
/// </remarks>
public sealed class GaussianMixture
{
    /// <summary>The kind name of saved mixtures in the index container.</summary>
    public const string KindName = "GaussianMixture";

    private const int Block = 2048; // points per E-step block
    private const double AbsoluteVarianceFloor = 1e-10;
    private const double ResponsibilityEpsilon = 10 * 2.220446049250313e-16; // scikit-learn's 10 · float64 eps added to every Nₖ

    private readonly float[] _centre;     // mean of the component means
    private readonly PanelMatrix _quadratic; // row k: [1/σ²ₖ, −2 (μₖ − centre)/σ²ₖ]
    private readonly double[] _constant;  // log wₖ − ½ (d log 2π + Σ log σ²ₖ + Σ (μₖ − centre)²/σ²ₖ)

    /// <summary>Creates a mixture from its parameters (kept, not copied).</summary>
    /// <param name="weights">K mixing weights, positive, summing to 1 (within 1e-3; they are used as given).</param>
    /// <param name="means">Row-major K × <paramref name="dimension"/> means.</param>
    /// <param name="variances">Row-major K × <paramref name="dimension"/> positive variances.</param>
    /// <param name="dimension">Components per point; positive.</param>
    /// <exception cref="ArgumentException">Sizes disagree, a weight or variance is not positive, a value is not finite, or the weights do not sum to 1.</exception>
    public GaussianMixture(float[] weights, float[] means, float[] variances, int dimension)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(means);
        ArgumentNullException.ThrowIfNull(variances);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        int k = weights.Length;
        if (k == 0) throw new ArgumentException("A mixture needs at least one component.", nameof(weights));
        if (means.Length != (long)k * dimension || variances.Length != (long)k * dimension)
            throw new ArgumentException($"{k} components of dimension {dimension} need {(long)k * dimension} means and variances; got {means.Length} and {variances.Length}.", nameof(means));
        if (!FiniteValues.All(means)) throw new ArgumentException("Means must be finite.", nameof(means));
        foreach (float w in weights)
        {
            if (!(w > 0) || float.IsInfinity(w)) throw new ArgumentException($"Weights must be positive and finite; got {w}.", nameof(weights));
        }
        if (Math.Abs(weights.Sum(w => (double)w) - 1) > 1e-3) throw new ArgumentException("The weights must sum to 1.", nameof(weights));
        foreach (float v in variances)
        {
            if (!(v > 0) || float.IsInfinity(v)) throw new ArgumentException($"Variances must be positive and finite; got {v}.", nameof(variances));
        }
        Weights = weights;
        Means = means;
        Variances = variances;
        Dimension = dimension;

        _centre = new float[dimension];
        for (int c = 0; c < k; c++)
            for (int t = 0; t < dimension; t++) _centre[t] += means[c * dimension + t] / k;
        var quadratic = new float[k * 2 * dimension];
        _constant = new double[k];
        for (int c = 0; c < k; c++)
        {
            double constant = Math.Log(weights[c]) - 0.5 * dimension * Math.Log(2 * Math.PI);
            for (int t = 0; t < dimension; t++)
            {
                double variance = variances[c * dimension + t], mu = means[c * dimension + t] - _centre[t];
                quadratic[c * 2 * dimension + t] = (float)(1 / variance);
                quadratic[c * 2 * dimension + dimension + t] = (float)(-2 * mu / variance);
                constant -= 0.5 * (Math.Log(variance) + mu * mu / variance);
            }
            _constant[c] = constant;
        }
        _quadratic = new PanelMatrix(quadratic, k, 2 * dimension);
    }

    /// <summary>Number of Gaussians K.</summary>
    public int Components => Weights.Length;

    /// <summary>Components per point.</summary>
    public int Dimension { get; }

    /// <summary>The K mixing weights.</summary>
    public float[] Weights { get; }

    /// <summary>Row-major K × <see cref="Dimension"/> means.</summary>
    public float[] Means { get; }

    /// <summary>Row-major K × <see cref="Dimension"/> variances (diagonal covariances).</summary>
    public float[] Variances { get; }

    /// <summary>Fits a mixture to data by EM (see the class remarks).</summary>
    /// <param name="data">Row-major n × <paramref name="dimension"/> training points, all finite.</param>
    /// <param name="dimension">Components per point; positive.</param>
    /// <param name="options">Components, iterations, tolerance, floor, initialisation.</param>
    /// <param name="progress">Told after every EM iteration.</param>
    /// <param name="cancellationToken">Checked before every iteration.</param>
    /// <returns>The fitted mixture.</returns>
    /// <exception cref="ArgumentException">Bad dimension, fewer points than components, non-finite values, or an option out of range.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static GaussianMixture Train(ReadOnlySpan<float> data, int dimension, GaussianMixtureOptions options,
        IProgress<GaussianMixtureProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        int k = options.Components;
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(options), k, "Components must be positive.");
        if (options.MaxIterations <= 0) throw new ArgumentOutOfRangeException(nameof(options), options.MaxIterations, "MaxIterations must be positive.");
        if (!(options.Tolerance >= 0)) throw new ArgumentOutOfRangeException(nameof(options), options.Tolerance, "Tolerance must not be negative.");
        if (!(options.VarianceFloor >= 0) || double.IsInfinity(options.VarianceFloor))
            throw new ArgumentOutOfRangeException(nameof(options), options.VarianceFloor, "VarianceFloor must be non-negative and finite.");
        if (options.MaxDegreeOfParallelism < 0) throw new ArgumentOutOfRangeException(nameof(options), options.MaxDegreeOfParallelism, "MaxDegreeOfParallelism must be 0 (all cores) or positive.");
        if (data.Length % dimension != 0)
            throw new ArgumentException($"The dimension {dimension} does not divide the {data.Length} values.", nameof(data));
        int n = data.Length / dimension;
        if (n < k) throw new ArgumentException($"{k} components need at least {k} training points; got {n}.", nameof(data));
        if (!FiniteValues.All(data)) throw new ArgumentException("Training points must be finite.", nameof(data));
        if (options.Initial is { } initial && (initial.Components != k || initial.Dimension != dimension))
            throw new ArgumentException($"The initial mixture has {initial.Components} components of dimension {initial.Dimension}; expected {k} of {dimension}.", nameof(options));

        var stopwatch = Stopwatch.StartNew();
        float[] points = data.ToArray();
        double[] floor = VarianceFloors(points, n, dimension, options.VarianceFloor);
        var responsibilities = new float[n * k];
        GaussianMixture model;
        if (options.Initial is { } start)
        {
            model = start;
        }
        else
        {
            var kmeans = new KMeans((options.KMeans ?? new KMeansOptions()) with { K = k, Metric = Metric.L2, MaxDegreeOfParallelism = options.MaxDegreeOfParallelism });
            KMeansResult clusters = kmeans.Train(points, dimension, cancellationToken: cancellationToken);
            int[] labels = clusters.Assignment ?? clusters.Assign(points, options.MaxDegreeOfParallelism);
            for (int i = 0; i < n; i++) responsibilities[i * k + labels[i]] = 1f;
            model = MaximisationStep(points, n, dimension, responsibilities, k, floor);
        }

        double previous = double.NegativeInfinity;
        for (int iteration = 0; iteration < options.MaxIterations; iteration++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            double meanLogLikelihood = model.ExpectationStep(points, n, responsibilities, options.MaxDegreeOfParallelism) / n;
            model = MaximisationStep(points, n, dimension, responsibilities, k, floor);
            progress?.Report(new GaussianMixtureProgress(iteration, meanLogLikelihood, stopwatch.Elapsed));
            if (Math.Abs(meanLogLikelihood - previous) < options.Tolerance) break;
            previous = meanLogLikelihood;
        }
        return model;
    }

    /// <summary>Mean log-likelihood per point of <paramref name="data"/> under the mixture.</summary>
    /// <param name="data">Row-major n × <see cref="Dimension"/> points, n ≥ 1.</param>
    /// <exception cref="ArgumentException">The dimension does not divide the data, there are no points, or a value is not finite.</exception>
    public double MeanLogLikelihood(ReadOnlySpan<float> data)
    {
        int n = Rows(data);
        if (n == 0) throw new ArgumentException("At least one point is needed.", nameof(data));
        return ExpectationStep(data, n, new float[n * Components], 0) / n;
    }

    /// <summary>The posterior probability of each component for each point (responsibilities), rows summing to 1.</summary>
    /// <param name="data">Row-major n × <see cref="Dimension"/> points.</param>
    /// <returns>Row-major n × K posteriors.</returns>
    /// <exception cref="ArgumentException">The dimension does not divide the data or a value is not finite.</exception>
    public float[] Posteriors(ReadOnlySpan<float> data)
    {
        int n = Rows(data);
        var posteriors = new float[n * Components];
        if (n > 0) ExpectationStep(data, n, posteriors, 1);
        return posteriors;
    }

    /// <summary>Saves the mixture atomically.</summary>
    /// <param name="path">Target file; replaced if it exists.</param>
    public void Save(string path) => AggregationFile.Save(path, KindName, Write);

    /// <summary>Writes the mixture in the library's container format.</summary>
    /// <param name="stream">A writable stream.</param>
    public void Save(Stream stream) => IndexFileFormat.Write(stream, KindName, Write);

    /// <summary>Loads a mixture saved by <see cref="Save(string)"/>.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="InvalidDataException">Not a mixture file, or truncated or corrupt.</exception>
    public static GaussianMixture Load(string path) => AggregationFile.Load(path, KindName, Read);

    /// <summary>Loads a mixture from a stream positioned at a file written by <see cref="Save(Stream)"/>.</summary>
    /// <param name="stream">A readable stream.</param>
    /// <exception cref="InvalidDataException">Not a mixture file, or truncated or corrupt.</exception>
    public static GaussianMixture Load(Stream stream) => AggregationFile.Read(stream, KindName, Read);

    internal void Write(IndexPayloadWriter writer)
    {
        writer.WriteInt32(Dimension);
        writer.WriteInt32(Components);
        writer.WriteSpan<float>(Weights);
        writer.WriteSpan<float>(Means);
        writer.WriteSpan<float>(Variances);
    }

    internal static GaussianMixture Read(IndexPayloadReader reader)
    {
        int dimension = reader.ReadInt32("dimension", 1, 1 << 20);
        int k = reader.ReadInt32("components", 1, 1 << 24);
        float[] weights = reader.ReadArray<float>(k, "weights");
        float[] means = reader.ReadArray<float>((long)k * dimension, "means");
        float[] variances = reader.ReadArray<float>((long)k * dimension, "variances");
        try
        {
            return new GaussianMixture(weights, means, variances, dimension);
        }
        catch (ArgumentException e)
        {
            throw reader.Corrupt(e.Message);
        }
    }

    /// <summary>
    /// Writes the posteriors of the n points into <paramref name="posteriors"/> (n × K) and returns the sum of their
    /// log-likelihoods, in blocks of points spread over threads.
    /// </summary>
    internal double ExpectationStep(ReadOnlySpan<float> data, int n, Span<float> posteriors, int maxDegreeOfParallelism)
    {
        int blocks = (n + Block - 1) / Block;
        var sums = new double[blocks];
        if (blocks == 1 || maxDegreeOfParallelism == 1)
        {
            for (int b = 0; b < blocks; b++) sums[b] = ExpectationBlock(data, n, posteriors, b);
        }
        else
        {
            // Spans cannot cross into the parallel body; the arrays behind them are copied once per call instead.
            float[] points = data.ToArray();
            float[] output = new float[posteriors.Length];
            Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism == 0 ? -1 : maxDegreeOfParallelism },
                b => sums[b] = ExpectationBlock(points, n, output, b));
            output.CopyTo(posteriors);
        }
        return sums.Sum();
    }

    private double ExpectationBlock(ReadOnlySpan<float> data, int n, Span<float> posteriors, int block)
    {
        int d = Dimension, k = Components, first = block * Block, rows = Math.Min(Block, n - first);
        var augmented = new float[rows * 2 * d];
        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<float> x = data.Slice((first + i) * d, d);
            Span<float> row = augmented.AsSpan(i * 2 * d, 2 * d);
            for (int t = 0; t < d; t++)
            {
                float centred = x[t] - _centre[t];
                row[t] = centred * centred;
                row[d + t] = centred;
            }
        }
        Span<float> logs = posteriors.Slice(first * k, rows * k);
        _quadratic.MultiplyTransposed(augmented, rows, logs);
        double total = 0;
        for (int i = 0; i < rows; i++)
        {
            Span<float> row = logs.Slice(i * k, k);
            double max = double.NegativeInfinity;
            for (int c = 0; c < k; c++)
            {
                double value = _constant[c] - 0.5 * row[c];
                row[c] = (float)value;
                max = Math.Max(max, value);
            }
            double sum = 0;
            for (int c = 0; c < k; c++) sum += Math.Exp(row[c] - max);
            double logSum = max + Math.Log(sum);
            for (int c = 0; c < k; c++) row[c] = (float)Math.Exp(row[c] - logSum);
            total += logSum;
        }
        return total;
    }

    // scikit-learn's _estimate_gaussian_parameters for diagonal covariances: Nₖ = Σ rᵢₖ + 10ε, μₖ = Σ rᵢₖ xᵢ / Nₖ,
    // σ²ₖ = Σ rᵢₖ xᵢ² / Nₖ − μₖ², then the floor; sums in double, on data centred on its mean.
    private static GaussianMixture MaximisationStep(float[] points, int n, int d, float[] responsibilities, int k, double[] floor)
    {
        var mean = new float[d];
        for (int i = 0; i < n; i++)
            for (int t = 0; t < d; t++) mean[t] += points[i * d + t] / n;
        double[] first = MatrixProducts.TransposeMultiply(responsibilities, points, n, k, d, meanB: mean);
        var squares = new float[n * d];
        for (int i = 0; i < n; i++)
            for (int t = 0; t < d; t++)
            {
                float centred = points[i * d + t] - mean[t];
                squares[i * d + t] = centred * centred;
            }
        double[] second = MatrixProducts.TransposeMultiply(responsibilities, squares, n, k, d);
        var counts = new double[k];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < k; c++) counts[c] += responsibilities[i * k + c];
        var weights = new float[k];
        var means = new float[k * d];
        var variances = new float[k * d];
        double total = 0;
        for (int c = 0; c < k; c++)
        {
            counts[c] += ResponsibilityEpsilon;
            total += counts[c];
        }
        for (int c = 0; c < k; c++)
        {
            weights[c] = (float)(counts[c] / total);
            for (int t = 0; t < d; t++)
            {
                double mu = first[c * d + t] / counts[c];
                double variance = second[c * d + t] / counts[c] - mu * mu;
                means[c * d + t] = (float)(mu + mean[t]);
                variances[c * d + t] = (float)Math.Max(variance, floor[t]);
            }
        }
        return new GaussianMixture(weights, means, variances, d);
    }

    private static double[] VarianceFloors(float[] points, int n, int d, double fraction)
    {
        var mean = new double[d];
        var squares = new double[d];
        for (int i = 0; i < n; i++)
            for (int t = 0; t < d; t++)
            {
                double v = points[i * d + t];
                mean[t] += v;
                squares[t] += v * v;
            }
        var floor = new double[d];
        for (int t = 0; t < d; t++)
        {
            double m = mean[t] / n, variance = Math.Max(0, squares[t] / n - m * m);
            floor[t] = Math.Max(AbsoluteVarianceFloor, fraction * variance);
        }
        return floor;
    }

    private int Rows(ReadOnlySpan<float> data)
    {
        if (data.Length % Dimension != 0)
            throw new ArgumentException($"The mixture has dimension {Dimension}, which does not divide the {data.Length} values.", nameof(data));
        if (!FiniteValues.All(data)) throw new ArgumentException("Points must be finite.", nameof(data));
        return data.Length / Dimension;
    }
}
