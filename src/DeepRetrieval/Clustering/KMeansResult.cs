namespace DeepRetrieval.Clustering;

/// <summary>What <see cref="KMeans.Train"/> learned: the centroids of the best run and how it got there.</summary>
public sealed class KMeansResult
{
    internal KMeansResult(int k, int dimension, Metric metric, float[] centroids, double[] objectives, double finalObjective,
        int[]? assignment, int trainingPointCount, bool subsampled, int bestRun, int splitClusters, string[] warnings)
    {
        K = k;
        Dimension = dimension;
        Metric = metric;
        Centroids = centroids;
        Objectives = Array.AsReadOnly(objectives);
        FinalObjective = finalObjective;
        Assignment = assignment;
        TrainingPointCount = trainingPointCount;
        Subsampled = subsampled;
        BestRun = bestRun;
        SplitClusters = splitClusters;
        Warnings = Array.AsReadOnly(warnings);
    }

    /// <summary>Number of clusters.</summary>
    public int K { get; }

    /// <summary>Components per centroid.</summary>
    public int Dimension { get; }

    /// <summary>The metric the centroids were trained with, used by <see cref="Assign"/>.</summary>
    public Metric Metric { get; }

    /// <summary>Row-major <see cref="K"/> × <see cref="Dimension"/> centroids.</summary>
    public float[] Centroids { get; }

    /// <summary>
    /// One entry per iteration of the best run: the cost of the assignment made at the start of that iteration,
    /// with the centroids the previous iteration left. For <see cref="Metric.L2"/> it is <c>Σᵢ ‖xᵢ − c(xᵢ)‖²</c>
    /// and never increases (up to float rounding); for <see cref="Metric.InnerProduct"/> it is <c>Σᵢ xᵢ·c(xᵢ)</c>.
    /// </summary>
    public IReadOnlyList<double> Objectives { get; }

    /// <summary>The same cost for the returned centroids: every training point assigned to its nearest final centroid.</summary>
    public double FinalObjective { get; }

    /// <summary>Iterations the best run performed: <see cref="KMeansOptions.Iterations"/>, or fewer when an assignment repeated.</summary>
    public int Iterations => Objectives.Count;

    /// <summary>
    /// For each training point, the index of its nearest final centroid; null when training ran on a sample
    /// (use <see cref="Assign"/> for the full data then).
    /// </summary>
    public int[]? Assignment { get; }

    /// <summary>Points training actually ran on: all of them, or the sample.</summary>
    public int TrainingPointCount { get; }

    /// <summary>True when training ran on a random sample of <see cref="KMeansOptions.MaxPointsPerCentroid"/> × K points.</summary>
    public bool Subsampled { get; }

    /// <summary>Zero-based run (of <see cref="KMeansOptions.Redo"/>) whose centroids were kept.</summary>
    public int BestRun { get; }

    /// <summary>Empty clusters the best run refilled by splitting the largest cluster, over all its iterations.</summary>
    public int SplitClusters { get; }

    /// <summary>What a log would have said: sub-sampling, too few points per centroid, clusters left empty by duplicate points.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>The centroid of cluster <paramref name="cluster"/>.</summary>
    /// <param name="cluster">Zero-based cluster index, below <see cref="K"/>.</param>
    public ReadOnlySpan<float> Centroid(int cluster)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cluster);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(cluster, K);
        return Centroids.AsSpan(cluster * Dimension, Dimension);
    }

    /// <summary>Index of the nearest centroid (by <see cref="Metric"/>) for each row of <paramref name="data"/>; see <see cref="KMeans.Assign(ReadOnlySpan{float}, ReadOnlySpan{float}, int, Metric, int)"/>.</summary>
    /// <param name="data">Row-major points of dimension <see cref="Dimension"/>.</param>
    /// <param name="maxDegreeOfParallelism">The most threads to use; 0 for all cores.</param>
    public int[] Assign(ReadOnlySpan<float> data, int maxDegreeOfParallelism = 0) =>
        KMeans.Assign(data, Centroids, Dimension, Metric, maxDegreeOfParallelism);
}
