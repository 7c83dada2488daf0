using DeepRetrieval.Clustering;

namespace DeepRetrieval.Aggregation;

/// <summary>Settings of <see cref="GaussianMixture.Train"/>; the EM loop follows scikit-learn's <c>GaussianMixture(covariance_type="diag", init_params="kmeans")</c>.</summary>
public sealed record GaussianMixtureOptions
{
    /// <summary>Number of Gaussians K; positive and at most the number of training points.</summary>
    public int Components { get; init; }

    /// <summary>Most EM iterations; positive.</summary>
    public int MaxIterations { get; init; } = 100;

    /// <summary>Stop when the mean log-likelihood per point changes by less than this between iterations (scikit-learn's <c>tol</c>); non-negative, 0 runs all iterations.</summary>
    public double Tolerance { get; init; } = 1e-3;

    /// <summary>
    /// Variances are kept at least this fraction of the training data's variance in the same dimension, so a component
    /// that collapses onto a few points cannot reach zero variance (and infinite likelihood). Non-negative; 0 disables
    /// the relative floor (a floor of 1e-10 in absolute terms always applies).
    /// </summary>
    public double VarianceFloor { get; init; } = 1e-3;

    /// <summary>k-means settings for the initial responsibilities; its K is replaced by <see cref="Components"/>. Null for defaults.</summary>
    public KMeansOptions? KMeans { get; init; }

    /// <summary>Start EM from this mixture instead of from k-means (same K and dimension); null for k-means initialisation.</summary>
    public GaussianMixture? Initial { get; init; }

    /// <summary>The most threads the E-step may use; 0 for all cores.</summary>
    public int MaxDegreeOfParallelism { get; init; }
}
