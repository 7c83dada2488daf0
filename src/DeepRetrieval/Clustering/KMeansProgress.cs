namespace DeepRetrieval.Clustering;

/// <summary>Reported through <see cref="IProgress{T}"/> after every k-means iteration.</summary>
/// <param name="Run">Zero-based run, below <see cref="KMeansOptions.Redo"/>.</param>
/// <param name="Iteration">Zero-based iteration within the run.</param>
/// <param name="Objective">
/// Cost of this iteration's assignment: the sum of squared distances from each point to its centroid for
/// <see cref="Metric.L2"/>, the sum of inner products for <see cref="Metric.InnerProduct"/>.
/// </param>
/// <param name="Elapsed">Time since training started, sub-sampling and initialisation included.</param>
/// <param name="SplitClusters">Empty clusters refilled by splitting the largest cluster in this iteration.</param>
public readonly record struct KMeansProgress(int Run, int Iteration, double Objective, TimeSpan Elapsed, int SplitClusters);
