namespace DeepRetrieval.Clustering;

/// <summary>How <see cref="KMeans"/> chooses its starting centroids when none are given.</summary>
public enum KMeansInit
{
    /// <summary>
    /// k-means++ (Arthur and Vassilvitskii, 2007): the first centroid is a training point drawn uniformly at
    /// random, and each further centroid is a training point drawn with probability proportional to D(x)², its
    /// squared Euclidean distance to the nearest centroid chosen so far. It runs on at most
    /// K × <see cref="KMeansOptions.SeedingPointsPerCentroid"/> training points (a seeded sample beyond that) and is exact: the triangle inequality only skips points the new centroid cannot move closer.
    /// </summary>
    KMeansPlusPlus = 0,

    /// <summary>K distinct training points drawn uniformly at random, as Faiss does.</summary>
    Random = 1,
}
