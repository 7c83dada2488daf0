using Microsoft.Extensions.Logging;

namespace DeepRetrieval.Clustering;

/// <summary>
/// Settings of <see cref="KMeans"/>, the counterpart of Faiss's <c>ClusteringParameters</c>. The defaults follow
/// Faiss (25 iterations, at most 256 training points per centroid, a warning under 39) except for the
/// initialisation, which is k-means++.
/// </summary>
public sealed record KMeansOptions
{
    /// <summary>Number of clusters; positive and at most the number of training points.</summary>
    public int K { get; init; }

    /// <summary>Lloyd iterations per run; positive. A run stops earlier once an assignment repeats, because every further iteration would then reproduce the same centroids.</summary>
    public int Iterations { get; init; } = 25;

    /// <summary>How starting centroids are chosen when <see cref="InitialCentroids"/> is null.</summary>
    public KMeansInit Init { get; init; } = KMeansInit.KMeansPlusPlus;

    /// <summary>Seeds sub-sampling and initialisation; the same seed and data give bit-identical centroids for any thread count.</summary>
    public int Seed { get; init; } = 1234;

    /// <summary>
    /// When there are more than <see cref="K"/> × this many points, training runs on a seeded uniform sample of
    /// that many distinct points (and <see cref="KMeansResult.Warnings"/> says so); positive.
    /// <see cref="int.MaxValue"/> disables sub-sampling.
    /// </summary>
    public int MaxPointsPerCentroid { get; init; } = 256;

    /// <summary>
    /// k-means++ seeding runs on a seeded sample of at most <see cref="K"/> × this many training points (all of
    /// them when there are fewer); positive. Each D² step reads every seeding point once and cannot be batched,
    /// so on the full training set seeding would cost more than the Lloyd iterations; the default 16 keeps it
    /// to about one iteration. <see cref="int.MaxValue"/> seeds on the whole training set.
    /// </summary>
    public int SeedingPointsPerCentroid { get; init; } = 16;

    /// <summary>Fewer than <see cref="K"/> × this many training points adds a warning to <see cref="KMeansResult.Warnings"/>; zero or positive.</summary>
    public int MinPointsPerCentroid { get; init; } = 39;

    /// <summary>
    /// <see cref="Metric.L2"/> assigns each point to the centroid at the smallest squared distance and minimises
    /// their sum; <see cref="Metric.InnerProduct"/> assigns it to the centroid of largest inner product and the
    /// objective is the sum of those inner products (larger is better). <see cref="Metric.Cosine"/> is not
    /// accepted: normalise the data and use <see cref="Metric.InnerProduct"/> with <see cref="Spherical"/>.
    /// </summary>
    public Metric Metric { get; init; } = Metric.L2;

    /// <summary>Scales every centroid to unit length after each update (spherical k-means); zero centroids are left as they are.</summary>
    public bool Spherical { get; init; }

    /// <summary>Independent runs with different seeds; the run with the best final objective is kept. Positive.</summary>
    public int Redo { get; init; } = 1;

    /// <summary>The most threads training and assignment may use; 0 (the default) means <see cref="Environment.ProcessorCount"/>.</summary>
    public int MaxDegreeOfParallelism { get; init; }

    /// <summary>
    /// Row-major <see cref="K"/> × dimension starting centroids; null to use <see cref="Init"/>. Every run then
    /// starts from them, so <see cref="Redo"/> runs coincide.
    /// </summary>
    public float[]? InitialCentroids { get; init; }

    /// <summary>
    /// Receives what <see cref="KMeansResult.Warnings"/> collects, where Faiss prints it: fewer than
    /// <see cref="MinPointsPerCentroid"/> points per centroid and clusters left empty as warnings, sub-sampling as
    /// information. Null for none.
    /// </summary>
    public ILogger? Logger { get; init; }
}
