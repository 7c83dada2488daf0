using System.Buffers;
using System.Diagnostics;
using System.Numerics.Tensors;
using DeepRetrieval.Distances;
using Microsoft.Extensions.Logging;

namespace DeepRetrieval.Clustering;

/// <summary>
/// k-means clustering (Lloyd's algorithm), modelled on Faiss's <c>Clustering</c>: the codebook trainer for
/// inverted lists, product quantizers, visual words and VLAD.
/// </summary>
/// <remarks>
/// <para>
/// Objective. For <see cref="Metric.L2"/>, k-means looks for centroids c₁…c_K minimising
/// <c>J = Σᵢ minⱼ ‖xᵢ − cⱼ‖²</c>, the sum of squared distances from each point to its nearest centroid. For
/// <see cref="Metric.InnerProduct"/> each point goes to the centroid of largest inner product and
/// <c>J = Σᵢ maxⱼ xᵢ·cⱼ</c> is to be maximised; with <see cref="KMeansOptions.Spherical"/> and unit-length data
/// this is spherical k-means (cosine clustering).
/// </para>
/// <para>
/// Algorithm. (1) If there are more than K × <see cref="KMeansOptions.MaxPointsPerCentroid"/> points, keep a
/// seeded uniform sample of that many. (2) Choose starting centroids (<see cref="KMeansOptions.InitialCentroids"/>,
/// k-means++ on at most K × <see cref="KMeansOptions.SeedingPointsPerCentroid"/> of the points, or random
/// distinct points). (3) Repeat <see cref="KMeansOptions.Iterations"/> times: assign every point to its
/// nearest centroid, recording the cost J of that assignment; move each centroid to the mean of its points;
/// refill empty clusters by splitting the largest one (see below); with
/// <see cref="KMeansOptions.Spherical"/>, scale centroids to unit length. A run stops early when an assignment
/// equals the previous one, since the centroids can no longer change. (4) Assign once more to score the final
/// centroids. (5) With <see cref="KMeansOptions.Redo"/> &gt; 1, keep the run of best final cost. Each step of
/// Lloyd's algorithm cannot increase the L2 cost, so <see cref="KMeansResult.Objectives"/> is non-increasing up
/// to float rounding.
/// </para>
/// <para>
/// Empty clusters. As in Faiss, an empty cluster takes a copy of the largest cluster's centroid and both copies
/// are perturbed symmetrically (each component scaled by 1 ± 1/1024, alternating signs). The largest cluster's
/// points are then split between the two copies by nearness (dealt out alternately if that separates nothing),
/// and both centroids become the means of their halves, which lowers the cost. The rule is deterministic, so a
/// training run is reproducible from its seed. Only data with fewer distinct points than K can end with an
/// empty cluster; <see cref="KMeansResult.Warnings"/> then says so.
/// </para>
/// <para>
/// Speed. The assignment step is an exact nearest-centroid search over the centroids stored in panels (the kernel of
/// <c>FlatIndex</c>, with its ranking and tie rules), which runs at matrix-multiply speed on <see cref="KMeansOptions.MaxDegreeOfParallelism"/> threads; the update step
/// is split across threads by centroid. Results are bit-identical for any thread count.
/// </para>
/// </remarks>
public sealed class KMeans
{
    /// <summary>Creates a trainer with the given options, checking them.</summary>
    /// <param name="options">The settings; <see cref="KMeansOptions.K"/> must be set.</param>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public KMeans(KMeansOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.K <= 0) throw new ArgumentOutOfRangeException(nameof(options), options.K, $"K (the number of clusters) must be positive; got {options.K}.");
        if (options.Iterations <= 0) throw new ArgumentOutOfRangeException(nameof(options), options.Iterations, $"Iterations must be positive; got {options.Iterations}.");
        if (!Enum.IsDefined(options.Init)) throw new ArgumentOutOfRangeException(nameof(options), options.Init, "Unknown initialisation.");
        if (options.MaxPointsPerCentroid <= 0) throw new ArgumentOutOfRangeException(nameof(options), options.MaxPointsPerCentroid, $"MaxPointsPerCentroid must be positive; got {options.MaxPointsPerCentroid}.");
        if (options.SeedingPointsPerCentroid <= 0) throw new ArgumentOutOfRangeException(nameof(options), options.SeedingPointsPerCentroid, $"SeedingPointsPerCentroid must be positive; got {options.SeedingPointsPerCentroid}.");
        if (options.MinPointsPerCentroid < 0) throw new ArgumentOutOfRangeException(nameof(options), options.MinPointsPerCentroid, $"MinPointsPerCentroid must not be negative; got {options.MinPointsPerCentroid}.");
        CheckMetric(options.Metric, nameof(options));
        if (options.Redo <= 0) throw new ArgumentOutOfRangeException(nameof(options), options.Redo, $"Redo (the number of runs) must be positive; got {options.Redo}.");
        if (options.MaxDegreeOfParallelism < 0) throw new ArgumentOutOfRangeException(nameof(options), options.MaxDegreeOfParallelism, "MaxDegreeOfParallelism must be 0 (all cores) or positive.");
        Options = options;
    }

    /// <summary>Creates a trainer for <paramref name="k"/> clusters with default options.</summary>
    /// <param name="k">Number of clusters; positive.</param>
    public KMeans(int k) : this(new KMeansOptions { K = k }) { }

    /// <summary>The checked settings.</summary>
    public KMeansOptions Options { get; }

    /// <summary>Clusters <paramref name="data"/> into <see cref="KMeansOptions.K"/> groups (algorithm in the class remarks).</summary>
    /// <param name="data">Row-major training points, n × <paramref name="dimension"/>, all finite.</param>
    /// <param name="dimension">Components per point; positive.</param>
    /// <param name="progress">Told after every iteration; null for none.</param>
    /// <param name="cancellationToken">Checked before every iteration.</param>
    /// <returns>The best run's centroids, its per-iteration objective and, without sub-sampling, the assignment.</returns>
    /// <exception cref="ArgumentException">
    /// The dimension is not positive or does not divide the data, a value is NaN or infinite, there are fewer
    /// points than K, or <see cref="KMeansOptions.InitialCentroids"/> has the wrong size or non-finite values.
    /// </exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public unsafe KMeansResult Train(ReadOnlySpan<float> data, int dimension, IProgress<KMeansProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        int n = CheckRows(data, dimension, nameof(data), "training points");
        int k = Options.K;
        if (k > n)
            throw new ArgumentException($"K = {k} clusters need at least {k} training points; got {n}.", nameof(data));
        if (Options.InitialCentroids is { } initial)
        {
            if (initial.Length != (long)k * dimension)
                throw new ArgumentException($"InitialCentroids must hold K × dimension = {(long)k * dimension} values; got {initial.Length}.", nameof(data));
            CheckRows(initial, dimension, nameof(data), "initial centroids");
        }

        var stopwatch = Stopwatch.StartNew();
        var warnings = new List<string>();
        float[]? sample = null;
        int trainCount = n;
        long limit = (long)k * Options.MaxPointsPerCentroid;
        if (n > limit)
        {
            trainCount = (int)limit;
            sample = Subsample(data, dimension, trainCount, new Random(Options.Seed));
            warnings.Add($"Training on a random sample of {trainCount} of the {n} points ({Options.MaxPointsPerCentroid} per centroid); raise MaxPointsPerCentroid to use more.");
            Options.Logger?.LogInformation("k-means with {K} centroids: training on a random sample of {Sample} of the {Count} points ({PerCentroid} per centroid).", k, trainCount, n, Options.MaxPointsPerCentroid);
        }
        if (trainCount < (long)k * Options.MinPointsPerCentroid)
        {
            warnings.Add($"Only {trainCount} training points for {k} centroids; at least {Options.MinPointsPerCentroid} per centroid ({(long)k * Options.MinPointsPerCentroid}) are recommended.");
            Options.Logger?.LogWarning("Clustering {Count} points to {K} centroids: please provide at least {Needed} training points ({PerCentroid} per centroid) for reliable centroids.", trainCount, k, (long)k * Options.MinPointsPerCentroid, Options.MinPointsPerCentroid);
        }

        ReadOnlySpan<float> points = sample ?? data;
        fixed (float* x = points)
        {
            var trainer = new Trainer(this, x, trainCount, dimension, progress, cancellationToken, stopwatch);
            Run best = trainer.Execute(0);
            int bestRun = 0;
            for (int run = 1; run < Options.Redo; run++)
            {
                Run candidate = trainer.Execute(run);
                bool better = Options.Metric == Metric.L2 ? candidate.FinalObjective < best.FinalObjective : candidate.FinalObjective > best.FinalObjective;
                if (better) (best, bestRun) = (candidate, run);
            }
            int empty = k - best.Assignment.Distinct().Count();
            if (empty > 0)
            {
                warnings.Add($"{empty} of the {k} clusters ended empty: the training data has fewer distinct points than clusters, so some centroids coincide.");
                Options.Logger?.LogWarning("{Empty} of the {K} k-means clusters ended empty: the training data has fewer distinct points than clusters, so some centroids coincide.", empty, k);
            }
            return new KMeansResult(k, dimension, Options.Metric, best.Centroids, best.Objectives, best.FinalObjective,
                sample is null ? best.Assignment : null, trainCount, sample is not null, bestRun, best.SplitClusters, [.. warnings]);
        }
    }

    /// <summary>Index of the nearest centroid for each row of <paramref name="data"/>; ties go to the lower index.</summary>
    /// <param name="data">Row-major points, n × <paramref name="dimension"/>, all finite.</param>
    /// <param name="centroids">Row-major centroids, K × <paramref name="dimension"/>, K ≥ 1.</param>
    /// <param name="dimension">Components per point; positive.</param>
    /// <param name="metric"><see cref="Metric.L2"/> (smallest squared distance) or <see cref="Metric.InnerProduct"/> (largest inner product).</param>
    /// <param name="maxDegreeOfParallelism">The most threads to use; 0 for all cores.</param>
    /// <exception cref="ArgumentException">Bad dimension, partial rows, no centroids, non-finite values or an unsupported metric.</exception>
    public static int[] Assign(ReadOnlySpan<float> data, ReadOnlySpan<float> centroids, int dimension, Metric metric = Metric.L2, int maxDegreeOfParallelism = 0)
    {
        int n = CheckRows(data, dimension, nameof(data), "points");
        var assignment = new int[n];
        Assign(data, centroids, dimension, assignment, [], metric, maxDegreeOfParallelism);
        return assignment;
    }

    /// <summary>
    /// Writes the nearest centroid of each row into <paramref name="assignment"/> and, if it is not empty, its
    /// distance (L2) or inner product into <paramref name="distances"/>; returns their sum, the k-means cost.
    /// </summary>
    /// <param name="data">Row-major points, n × <paramref name="dimension"/>, all finite.</param>
    /// <param name="centroids">Row-major centroids, K × <paramref name="dimension"/>, K ≥ 1.</param>
    /// <param name="dimension">Components per point; positive.</param>
    /// <param name="assignment">Receives n centroid indices.</param>
    /// <param name="distances">Empty, or receives n squared distances (L2) or inner products.</param>
    /// <param name="metric"><see cref="Metric.L2"/> or <see cref="Metric.InnerProduct"/>.</param>
    /// <param name="maxDegreeOfParallelism">The most threads to use; 0 for all cores.</param>
    /// <exception cref="ArgumentException">Bad dimension, partial rows, no centroids, non-finite values, wrong buffer sizes or an unsupported metric.</exception>
    public static double Assign(ReadOnlySpan<float> data, ReadOnlySpan<float> centroids, int dimension, Span<int> assignment, Span<float> distances,
        Metric metric = Metric.L2, int maxDegreeOfParallelism = 0)
    {
        int n = CheckRows(data, dimension, nameof(data), "points");
        int k = CheckRows(centroids, dimension, nameof(centroids), "centroids");
        if (k == 0) throw new ArgumentException("At least one centroid is needed.", nameof(centroids));
        CheckMetric(metric, nameof(metric));
        ArgumentOutOfRangeException.ThrowIfNegative(maxDegreeOfParallelism);
        if (assignment.Length != n)
            throw new ArgumentException($"The assignment buffer must hold one index per point ({n}); got {assignment.Length}.", nameof(assignment));
        if (!distances.IsEmpty && distances.Length != n)
            throw new ArgumentException($"The distance buffer must be empty or hold one value per point ({n}); got {distances.Length}.", nameof(distances));
        var matrix = new PanelMatrix(dimension);
        int threads = maxDegreeOfParallelism == 0 ? Environment.ProcessorCount : maxDegreeOfParallelism;
        return AssignCore(matrix, centroids, k, metric, data, n, assignment, distances, threads);
    }

    // Stores the centroids in the matrix and assigns every point; the distance buffer is pooled when the caller gives none.
    private static double AssignCore(PanelMatrix matrix, ReadOnlySpan<float> centroids, int k, Metric metric, ReadOnlySpan<float> data, int n,
        Span<int> assignment, Span<float> distances, int threads)
    {
        int d = matrix.Dimension;
        matrix.EnsureCapacity(k);
        for (int c = 0; c < k; c++) matrix.WriteRow(c, centroids.Slice(c * d, d));
        float[]? scratch = distances.IsEmpty ? ArrayPool<float>.Shared.Rent(Math.Max(1, n)) : null;
        try
        {
            Span<float> values = scratch is null ? distances : scratch.AsSpan(0, n);
            matrix.Nearest(data, k, metric == Metric.InnerProduct, assignment, values, threads);
            double objective = 0;
            for (int i = 0; i < n; i++) objective += values[i];
            return objective;
        }
        finally
        {
            if (scratch is not null) ArrayPool<float>.Shared.Return(scratch);
        }
    }

    private static float[] Subsample(ReadOnlySpan<float> data, int d, int count, Random random)
    {
        int[] rows = KMeansSeeding.SampleDistinct(data.Length / d, count, random);
        Array.Sort(rows); // reading the source in order is kinder to the cache and changes nothing else
        var sample = new float[(long)count * d];
        for (int i = 0; i < count; i++) data.Slice(rows[i] * d, d).CopyTo(sample.AsSpan(i * d, d));
        return sample;
    }

    private static int CheckRows(ReadOnlySpan<float> values, int dimension, string parameterName, string what)
    {
        if (dimension <= 0) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, $"The dimension must be positive; got {dimension}.");
        if (values.Length % dimension != 0)
            throw new ArgumentException($"The {what} must be whole rows of dimension {dimension}, but {values.Length} values is not a multiple of {dimension}. Check the dimension.", parameterName);
        VectorValidation.CheckValues(values, dimension, parameterName, what);
        return values.Length / dimension;
    }

    private static void CheckMetric(Metric metric, string parameterName)
    {
        if (metric is not (Metric.L2 or Metric.InnerProduct))
            throw new ArgumentException($"k-means supports Metric.L2 and Metric.InnerProduct; got {metric}. For cosine, normalise the data and use InnerProduct with Spherical = true.", parameterName);
    }

    private static void NormalizeRows(float[] centroids, int d)
    {
        for (int c = 0; c < centroids.Length / d; c++)
        {
            Span<float> row = centroids.AsSpan(c * d, d);
            float norm = TensorPrimitives.Norm(row);
            if (norm > 0f) TensorPrimitives.Divide(row, norm, row);
        }
    }

    private sealed record Run(float[] Centroids, double[] Objectives, double FinalObjective, int[] Assignment, int SplitClusters);

    // One training set, shared by all runs; the buffers are allocated once per Train call.
    private sealed unsafe class Trainer(KMeans owner, float* x, int n, int d, IProgress<KMeansProgress>? progress, CancellationToken cancellationToken, Stopwatch stopwatch)
    {
        private readonly KMeansOptions _options = owner.Options;
        private readonly int _threads = owner.Options.MaxDegreeOfParallelism == 0 ? Environment.ProcessorCount : owner.Options.MaxDegreeOfParallelism;
        private readonly float[] _distances = new float[n];
        private readonly int[] _previous = new int[n];
        private readonly int[] _counts = new int[owner.Options.K];
        private readonly double[] _sums = new double[(long)owner.Options.K * d];
        private readonly PanelMatrix _matrix = new(d);

        private ReadOnlySpan<float> Points => new(x, n * d);

        public Run Execute(int run)
        {
            int k = _options.K;
            Metric metric = _options.Metric;
            // Faiss's seed schedule: a large prime step keeps the runs' streams apart.
            var random = new Random(unchecked(_options.Seed + 15486557 * (run + 1)));
            var centroids = new float[(long)k * d];
            if (_options.InitialCentroids is { } initial) initial.CopyTo(centroids, 0);
            else if (_options.Init == KMeansInit.Random) KMeansSeeding.RandomRows(x, n, d, k, random, centroids);
            else SeedPlusPlus(random, centroids);
            if (_options.Spherical) NormalizeRows(centroids, d);

            var assignment = new int[n];
            var objectives = new List<double>(_options.Iterations);
            int totalSplits = 0, lastSplits = -1;
            bool assignmentIsCurrent = false;
            for (int iteration = 0; iteration < _options.Iterations; iteration++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                double objective = AssignAll(centroids, assignment, metric);
                objectives.Add(objective);
                if (lastSplits == 0 && assignment.AsSpan().SequenceEqual(_previous))
                {
                    // Same assignment, no split: the update would reproduce these centroids exactly.
                    assignmentIsCurrent = true;
                    progress?.Report(new KMeansProgress(run, iteration, objective, stopwatch.Elapsed, 0));
                    break;
                }
                CentroidUpdate.ComputeMeans(x, n, d, assignment, k, centroids, _counts, _sums, _threads);
                int splits = CentroidUpdate.SplitEmpty(x, n, d, assignment, _counts, centroids, metric);
                if (_options.Spherical) NormalizeRows(centroids, d);
                totalSplits += splits;
                lastSplits = splits;
                assignment.CopyTo(_previous, 0);
                progress?.Report(new KMeansProgress(run, iteration, objective, stopwatch.Elapsed, splits));
            }
            double final = assignmentIsCurrent ? objectives[^1] : AssignAll(centroids, assignment, metric);
            return new Run(centroids, [.. objectives], final, assignment, totalSplits);
        }

        private void SeedPlusPlus(Random random, float[] centroids)
        {
            int k = _options.K;
            long limit = (long)k * _options.SeedingPointsPerCentroid;
            if (n <= limit)
            {
                KMeansSeeding.PlusPlus(x, n, d, k, random, centroids, _threads);
                return;
            }
            float[] sample = Subsample(Points, d, (int)limit, random);
            fixed (float* s = sample) KMeansSeeding.PlusPlus(s, (int)limit, d, k, random, centroids, _threads);
        }

        private double AssignAll(float[] centroids, int[] assignment, Metric metric) =>
            AssignCore(_matrix, centroids, _options.K, metric, Points, n, assignment, _distances, _threads);
    }
}
