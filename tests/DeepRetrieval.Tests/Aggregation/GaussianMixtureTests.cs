using DeepRetrieval.Aggregation;
using DeepRetrieval.Clustering;

namespace DeepRetrieval.Tests.Aggregation;

public class GaussianMixtureTests
{
    private static GaussianMixture FromRows(float[] rows, int components, int dimension)
    {
        int stride = 1 + 2 * dimension;
        float[] weights = Enumerable.Range(0, components).Select(c => rows[c * stride]).ToArray();
        float[] means = Enumerable.Range(0, components).SelectMany(c => rows.AsSpan(c * stride + 1, dimension).ToArray()).ToArray();
        float[] variances = Enumerable.Range(0, components).SelectMany(c => rows.AsSpan(c * stride + 1 + dimension, dimension).ToArray()).ToArray();
        return new GaussianMixture(weights, means, variances, dimension);
    }

    [Fact]
    public void Train_FromAGivenStart_MatchesTheNumpyEmReference()
    {
        // Reference: eight EM iterations in float64 (scikit-learn's updates, variance floor 1e−3 of the data variance).
        float[] data = AggregationFixtures.Load("gmm_data").Data;
        float[] start = AggregationFixtures.Load("gmm_start").Data;
        float[] result = AggregationFixtures.Load("gmm_result").Data;
        double[] logLikelihoods = AggregationFixtures.Load("gmm_loglikelihoods").Data.Select(v => (double)v).ToArray();
        var reported = new List<double>();
        GaussianMixture trained = GaussianMixture.Train(data, 3, new GaussianMixtureOptions
        {
            Components = 3, MaxIterations = 8, Tolerance = 0, VarianceFloor = 1e-3, Initial = FromRows(start, 3, 3),
        }, new SynchronousProgress<GaussianMixtureProgress>(p => reported.Add(p.MeanLogLikelihood)));
        GaussianMixture expected = FromRows(result, 3, 3);
        for (int i = 0; i < 3; i++) trained.Weights[i].Should().BeApproximately(expected.Weights[i], 1e-4f);
        for (int i = 0; i < 9; i++)
        {
            trained.Means[i].Should().BeApproximately(expected.Means[i], 2e-4f);
            trained.Variances[i].Should().BeApproximately(expected.Variances[i], 2e-4f * Math.Max(1f, expected.Variances[i]));
        }
        reported.Should().HaveCount(8);
        for (int i = 0; i < 8; i++) reported[i].Should().BeApproximately(logLikelihoods[i], 1e-4);
        trained.MeanLogLikelihood(data).Should().BeApproximately(logLikelihoods[^1], 1e-3);
    }

    [Fact]
    public void Train_WithKMeansInitialisation_FindsSeparatedClusters()
    {
        float[] data = AggregationFixtures.Load("gmm_data").Data;
        GaussianMixture trained = GaussianMixture.Train(data, 3, new GaussianMixtureOptions { Components = 3, KMeans = new KMeansOptions { Seed = 5 } });
        float[][] truth = [[0, 0, 0], [4, 1, -2], [-3, 3, 1]];
        foreach (float[] centre in truth)
        {
            double nearest = Enumerable.Range(0, 3).Min(c => System.Numerics.Tensors.TensorPrimitives.Distance(centre, trained.Means.AsSpan(c * 3, 3)));
            nearest.Should().BeLessThan(0.35);
        }
        trained.Weights.Should().OnlyContain(w => Math.Abs(w - 1f / 3) < 0.02f);
        GaussianMixture again = GaussianMixture.Train(data, 3, new GaussianMixtureOptions { Components = 3, KMeans = new KMeansOptions { Seed = 5 } });
        again.Means.Should().Equal(trained.Means, "training is deterministic for a seed");
    }

    [Fact]
    public void VarianceFloor_StopsAComponentCollapsingOntoDuplicates()
    {
        // Ten copies of one point and spread-out others: the duplicates' component would reach zero variance.
        float[] data = Enumerable.Repeat(5f, 10).Concat(TestData.Gaussian(40, 1, seed: 3)).ToArray();
        GaussianMixture trained = GaussianMixture.Train(data, 1, new GaussianMixtureOptions { Components = 2, VarianceFloor = 0.01, KMeans = new KMeansOptions { Seed = 1 } });
        double dataVariance = data.Select(v => (double)v).Average(v => v * v) - Math.Pow(data.Average(v => (double)v), 2);
        trained.Variances.Should().OnlyContain(v => v >= 0.01 * dataVariance * 0.999);
        double.IsFinite(trained.MeanLogLikelihood(data)).Should().BeTrue();
    }

    [Fact]
    public void Posteriors_SumToOne_AndFollowTheDensities()
    {
        // Two unit Gaussians at −2 and 2 with equal weights: at x = 0 the posterior is ½; at x = 2 it is
        // 1 / (1 + e^(−8)) for the right one.
        var mixture = new GaussianMixture([0.5f, 0.5f], [-2f, 2f], [1f, 1f], 1);
        float[] posteriors = mixture.Posteriors([0f, 2f]);
        posteriors[0].Should().BeApproximately(0.5f, 1e-6f);
        posteriors[3].Should().BeApproximately((float)(1 / (1 + Math.Exp(-8))), 1e-6f);
        (posteriors[2] + posteriors[3]).Should().BeApproximately(1f, 1e-6f);
        mixture.MeanLogLikelihood([2f]).Should().BeApproximately(Math.Log(0.5 * (Math.Exp(-8) + 1) / Math.Sqrt(2 * Math.PI)), 1e-5);
    }

    [Fact]
    public void SaveAndLoad_RoundTrip()
    {
        var mixture = new GaussianMixture([0.25f, 0.75f], [1f, 2f, 3f, 4f], [0.5f, 1f, 2f, 3f], 2);
        var stream = new MemoryStream();
        mixture.Save(stream);
        stream.Position = 0;
        GaussianMixture loaded = GaussianMixture.Load(stream);
        loaded.Weights.Should().Equal(mixture.Weights);
        loaded.Means.Should().Equal(mixture.Means);
        loaded.Variances.Should().Equal(mixture.Variances);
    }

    [Fact]
    public void BadArguments_AreRejected()
    {
        FluentActions.Invoking(() => new GaussianMixture([0.5f, 0.5f], [0f, 1f], [1f, 0f], 1)).Should().Throw<ArgumentException>().WithMessage("*positive*");
        FluentActions.Invoking(() => new GaussianMixture([0.2f, 0.2f], [0f, 1f], [1f, 1f], 1)).Should().Throw<ArgumentException>().WithMessage("*sum to 1*");
        FluentActions.Invoking(() => GaussianMixture.Train([1f, 2f], 1, new GaussianMixtureOptions { Components = 3 })).Should().Throw<ArgumentException>().WithMessage("*at least 3*");
        FluentActions.Invoking(() => GaussianMixture.Train([1f, 2f, 3f], 2, new GaussianMixtureOptions { Components = 1 })).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new GaussianMixture([1f], [0f], [1f], 1).Posteriors([1f, float.NaN]))
            .Should().Throw<ArgumentException>().WithMessage("*finite*");
    }

    private sealed class SynchronousProgress<T>(Action<T> handler) : IProgress<T>
    {
        public void Report(T value) => handler(value);
    }
}
