using DeepRetrieval.Clustering;

namespace DeepRetrieval.Tests.Clustering;

public class KMeansTests
{
    // Blobs with spread 1 around centres 40 apart: any sensible k-means must recover them exactly.
    private static (float[] Data, float[] Centres, int[] Labels) Blobs(int blobs, int perBlob, int d, int seed)
    {
        var random = new Random(seed);
        var centres = new float[blobs * d];
        for (int b = 0; b < blobs; b++) centres[b * d + b % d] = 40f * (1 + b / d) * (b % 2 == 0 ? 1 : -1);
        float[] noise = TestData.Gaussian(blobs * perBlob, d, seed + 1);
        var labels = new int[blobs * perBlob];
        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] = random.Next(blobs);
            for (int t = 0; t < d; t++) noise[i * d + t] += centres[labels[i] * d + t];
        }
        return (noise, centres, labels);
    }

    [Theory]
    [InlineData(KMeansInit.KMeansPlusPlus)]
    [InlineData(KMeansInit.Random)]
    public void Train_RecoversSeparatedBlobs(KMeansInit init)
    {
        const int d = 8, blobs = 6;
        var (data, centres, labels) = Blobs(blobs, 200, d, 3);

        var result = new KMeans(new KMeansOptions { K = blobs, Init = init, Seed = 7, Redo = init == KMeansInit.Random ? 3 : 1 }).Train(data, d);

        result.Assignment.Should().NotBeNull();
        var clusterOfBlob = new Dictionary<int, int>();
        for (int i = 0; i < labels.Length; i++)
        {
            if (!clusterOfBlob.TryGetValue(labels[i], out int cluster)) clusterOfBlob[labels[i]] = result.Assignment![i];
            else result.Assignment![i].Should().Be(cluster, "every point of blob {0} shares one cluster", labels[i]);
        }
        clusterOfBlob.Values.Distinct().Should().HaveCount(blobs);
        foreach (var (blob, cluster) in clusterOfBlob)
            for (int t = 0; t < d; t++)
                result.Centroid(cluster)[t].Should().BeApproximately(centres[blob * d + t], 0.3f);
    }

    [Fact]
    public void Train_HandWorkedExample()
    {
        float[] data = [0f, 1f, 10f, 11f];

        var result = new KMeans(new KMeansOptions { K = 2, Seed = 1 }).Train(data, 1);

        result.Centroids.Order().Should().Equal(0.5f, 10.5f);
        result.FinalObjective.Should().Be(1.0);
        result.Objectives[^1].Should().Be(1.0);
        result.Assignment![0].Should().Be(result.Assignment[1]);
        result.Assignment[2].Should().Be(result.Assignment[3]);
        result.Assignment[0].Should().NotBe(result.Assignment[2]);
    }

    [Fact]
    public void Train_LloydObjectiveNeverIncreases()
    {
        const int d = 16;
        float[] data = TestData.Clustered(3000, d, 20, 11);

        var result = new KMeans(new KMeansOptions { K = 32, Init = KMeansInit.Random, Iterations = 30, Seed = 5 }).Train(data, d);

        result.Iterations.Should().BeGreaterThan(3);
        for (int i = 1; i < result.Objectives.Count; i++)
            result.Objectives[i].Should().BeLessThanOrEqualTo(result.Objectives[i - 1] * (1 + 1e-6));
        result.FinalObjective.Should().BeLessThanOrEqualTo(result.Objectives[^1] * (1 + 1e-6));
        result.FinalObjective.Should().BeApproximately(Objective(data, result.Centroids, d), 1e-3 * result.FinalObjective);
    }

    [Fact]
    public void Train_SameSeedSameCentroids_AnyThreadCount_DifferentSeedDiffers()
    {
        const int d = 12;
        float[] data = TestData.Clustered(2000, d, 15, 21);
        KMeansResult Run(int seed, int threads) =>
            new KMeans(new KMeansOptions { K = 16, Seed = seed, Iterations = 10, MaxDegreeOfParallelism = threads }).Train(data, d);

        var a = Run(42, 1);
        Run(42, 1).Centroids.Should().Equal(a.Centroids);
        Run(42, 2).Centroids.Should().Equal(a.Centroids);
        Run(43, 1).Centroids.Should().NotEqual(a.Centroids);
    }

    [Fact]
    public void Train_EmptyClusterFromFarInitialCentroid_IsSplitFromLargest()
    {
        // Two blobs, and a third starting centroid far from everything: it gets no points in the first
        // assignment, so the largest cluster must be split to refill it.
        const int d = 2;
        var (data, _, _) = Blobs(2, 100, d, 9);
        float[] initial = [40f, 0f, 0f, -40f, 1000f, 1000f];

        var progress = new List<KMeansProgress>();
        var result = new KMeans(new KMeansOptions { K = 3, InitialCentroids = initial, Iterations = 10 })
            .Train(data, d, new SynchronousProgress(progress));

        progress[0].SplitClusters.Should().Be(1);
        result.SplitClusters.Should().BeGreaterThanOrEqualTo(1);
        result.Assignment!.Distinct().Should().HaveCount(3, "no cluster is left empty");
        result.Centroids.Should().OnlyContain(v => Math.Abs(v) < 100f);
        result.Warnings.Should().BeEmpty();
    }

    [Fact]
    public void Train_DuplicateInitialCentroids_AndDuplicatePoints_LeaveNoEmptyCluster()
    {
        // Half the points are one repeated value and both starting centroids coincide: ties send every point
        // to cluster 0, so cluster 1 starts empty and is refilled by the split.
        float[] data = [.. Enumerable.Repeat(5f, 6), 1f, 2f, 3f, 9f, 10f, 11f];
        float[] initial = [5f, 5f, 5f];

        var result = new KMeans(new KMeansOptions { K = 3, InitialCentroids = initial }).Train(data, 1);

        result.SplitClusters.Should().BeGreaterThanOrEqualTo(1);
        result.Assignment!.Distinct().Should().HaveCount(3);
        result.Centroids.Order().Should().Equal(2f, 5f, 10f);
        result.FinalObjective.Should().BeApproximately(4.0, 1e-4);
    }

    [Fact]
    public void Train_FewerDistinctPointsThanK_WarnsInsteadOfLooping()
    {
        float[] data = [1f, 1f, 1f, 1f];

        var result = new KMeans(new KMeansOptions { K = 3, Iterations = 5 }).Train(data, 1);

        result.Centroids.Should().OnlyContain(v => v == 1f);
        result.FinalObjective.Should().Be(0);
        result.Warnings.Should().Contain(w => w.Contains("2 of the 3 clusters ended empty"));
    }

    [Fact]
    public void Train_SubsamplesLargeInputs_AndSaysSo()
    {
        const int d = 4;
        var (data, centres, _) = Blobs(4, 500, d, 13);

        var result = new KMeans(new KMeansOptions { K = 4, MaxPointsPerCentroid = 50, Seed = 2 }).Train(data, d);

        result.Subsampled.Should().BeTrue();
        result.TrainingPointCount.Should().Be(200);
        result.Assignment.Should().BeNull();
        result.Warnings.Should().Contain(w => w.Contains("sample of 200 of the 2000 points"));
        int[] assignment = result.Assign(data);
        assignment.Should().HaveCount(2000);
        assignment.Distinct().Should().HaveCount(4);
        for (int c = 0; c < 4; c++)
        {
            var centroid = result.Centroid(c).ToArray();
            Enumerable.Range(0, 4).Min(b => Sq(centroid, centres.AsSpan(b * d, d))).Should().BeLessThan(1f);
        }
    }

    [Fact]
    public void Train_WarnsWhenTooFewPointsPerCentroid()
    {
        float[] data = TestData.Gaussian(100, 3, 1);
        var result = new KMeans(new KMeansOptions { K = 10 }).Train(data, 3);
        result.Warnings.Should().ContainSingle(w => w.Contains("at least 39 per centroid"));
        result.Subsampled.Should().BeFalse();
    }

    [Fact]
    public void Train_Spherical_GivesUnitCentroids_AndInnerProductObjective()
    {
        const int d = 10;
        float[] data = TestData.Clustered(1000, d, 8, 17);
        for (int i = 0; i < 1000; i++)
        {
            var row = data.AsSpan(i * d, d);
            float norm = MathF.Sqrt(Dot(row, row));
            for (int t = 0; t < d; t++) row[t] /= norm;
        }

        var result = new KMeans(new KMeansOptions { K = 8, Metric = Metric.InnerProduct, Spherical = true, Redo = 2 }).Train(data, d);

        for (int c = 0; c < 8; c++)
        {
            var centroid = result.Centroid(c);
            MathF.Sqrt(Dot(centroid, centroid)).Should().BeApproximately(1f, 1e-5f);
        }
        double expected = 0;
        for (int i = 0; i < 1000; i++)
            expected += Enumerable.Range(0, 8).Max(c => Dot(data.AsSpan(i * d, d), result.Centroid(c)));
        result.FinalObjective.Should().BeApproximately(expected, 1e-3);
        result.FinalObjective.Should().BeGreaterThan(0.8 * 1000);
    }

    [Fact]
    public void Train_ReportsProgressPerIteration_AndHonoursCancellation()
    {
        float[] data = TestData.Clustered(500, 4, 5, 3);
        var progress = new List<KMeansProgress>();
        var result = new KMeans(new KMeansOptions { K = 5, Iterations = 4, Redo = 2 }).Train(data, 4, new SynchronousProgress(progress));
        progress.Select(p => p.Run).Distinct().Should().Equal(0, 1);
        progress.Where(p => p.Run == result.BestRun).Select(p => p.Objective).Should().Equal(result.Objectives);
        progress.Should().OnlyContain(p => p.Elapsed >= TimeSpan.Zero);

        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var act = () => new KMeans(5).Train(data, 4, null, cancelled.Token);
        act.Should().Throw<OperationCanceledException>();
    }

    [Fact]
    public void Assign_ReturnsNearestCentroid_AndCost()
    {
        float[] data = [0f, 0f, 3f, 3f, 10f, 0f];
        float[] centroids = [0f, 1f, 9f, 0f];
        KMeans.Assign(data, centroids, 2).Should().Equal(0, 0, 1);
        var assignment = new int[3];
        var distances = new float[3];
        double cost = KMeans.Assign(data, centroids, 2, assignment, distances, Metric.L2, 1);
        distances.Should().Equal(1f, 13f, 1f);
        cost.Should().Be(15.0);
        KMeans.Assign(data, centroids, 2, Metric.InnerProduct).Should().Equal(0, 1, 1); // (0,0) ties: lower index
    }

    [Fact]
    public void BadInput_IsRejectedWithClearMessages()
    {
        float[] data = [1f, 2f, 3f, 4f];
        FluentActions.Invoking(() => new KMeans(0)).Should().Throw<ArgumentException>().WithMessage("*K*positive*");
        FluentActions.Invoking(() => new KMeans(new KMeansOptions { K = 2, Iterations = 0 })).Should().Throw<ArgumentException>().WithMessage("*Iterations*");
        FluentActions.Invoking(() => new KMeans(new KMeansOptions { K = 2, Metric = Metric.Cosine })).Should().Throw<ArgumentException>().WithMessage("*Cosine*");
        FluentActions.Invoking(() => new KMeans(5).Train(data, 1)).Should().Throw<ArgumentException>().WithMessage("*5 clusters need at least 5*got 4*");
        FluentActions.Invoking(() => new KMeans(1).Train(data, 3)).Should().Throw<ArgumentException>().WithMessage("*multiple of 3*");
        FluentActions.Invoking(() => new KMeans(1).Train(data, 0)).Should().Throw<ArgumentException>().WithMessage("*dimension*positive*");
        FluentActions.Invoking(() => new KMeans(1).Train([1f, float.NaN], 1)).Should().Throw<ArgumentException>().WithMessage("*row 1*NaN*");
        FluentActions.Invoking(() => new KMeans(1).Train([float.PositiveInfinity, 1f], 2)).Should().Throw<ArgumentException>().WithMessage("*row 0, component 0*");
        FluentActions.Invoking(() => new KMeans(new KMeansOptions { K = 2, InitialCentroids = [1f] }).Train(data, 1)).Should().Throw<ArgumentException>().WithMessage("*InitialCentroids*2*");
        FluentActions.Invoking(() => KMeans.Assign(data, [], 1)).Should().Throw<ArgumentException>().WithMessage("*one centroid*");
        FluentActions.Invoking(() => KMeans.Assign(data, [1f, 2f, 3f], 2)).Should().Throw<ArgumentException>().WithMessage("*centroids*multiple of 2*");
    }

    private static double Objective(float[] data, float[] centroids, int d)
    {
        double sum = 0;
        for (int i = 0; i < data.Length / d; i++)
            sum += Enumerable.Range(0, centroids.Length / d).Min(c => Sq(data.AsSpan(i * d, d), centroids.AsSpan(c * d, d)));
        return sum;
    }

    private static float Sq(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        float s = 0;
        for (int t = 0; t < x.Length; t++) s += (x[t] - y[t]) * (x[t] - y[t]);
        return s;
    }

    private static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        float s = 0;
        for (int t = 0; t < x.Length; t++) s += x[t] * y[t];
        return s;
    }

    // Progress<T> posts to the thread pool; tests need the reports in order and before Train returns.
    private sealed class SynchronousProgress(List<KMeansProgress> reports) : IProgress<KMeansProgress>
    {
        public void Report(KMeansProgress value) => reports.Add(value);
    }
}
