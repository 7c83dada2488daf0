using DeepRetrieval.Aggregation;

namespace DeepRetrieval.Tests.Aggregation;

public class FisherVectorEncoderTests
{
    private static GaussianMixture ReferenceMixture()
    {
        float[] rows = AggregationFixtures.Load("gmm_result").Data;
        float[] weights = [rows[0], rows[7], rows[14]];
        float[] means = [.. rows[1..4], .. rows[8..11], .. rows[15..18]];
        float[] variances = [.. rows[4..7], .. rows[11..14], .. rows[18..21]];
        // The stored weights are float32 of a float64 sum to 1; renormalise in double to stay within the check.
        double total = weights.Sum(w => (double)w);
        return new GaussianMixture(weights.Select(w => (float)(w / total)).ToArray(), means, variances, 3);
    }

    [Theory]
    [InlineData("a")]
    [InlineData("b")]
    public void Encode_MatchesTheNumpyReference(string set)
    {
        var encoder = new FisherVectorEncoder(ReferenceMixture());
        float[] vector = encoder.Encode(AggregationFixtures.Load("fisher_descriptors_" + set).Data);
        float[] expected = AggregationFixtures.Load("fisher_" + set).Data;
        vector.Length.Should().Be(18);
        for (int i = 0; i < 18; i++) vector[i].Should().BeApproximately(expected[i], 2e-5f);
    }

    [Fact]
    public void Encode_OneDescriptorAtTheMean_ByHand()
    {
        // One component (w = 1, μ = 1, σ² = 4) and the single descriptor x = 3: u = (3 − 1) / 2 = 1, so
        // G_μ = 1 and G_σ = (1 − 1) / √2 = 0 before normalisation.
        var mixture = new GaussianMixture([1f], [1f], [4f], 1);
        var raw = new FisherVectorEncoder(mixture, new FisherVectorOptions { Power = 1, L2Normalization = false });
        raw.Encode([3f]).Should().Equal(1f, 0f);
        // x = 5: u = 2, G_μ = 2, G_σ = 3 / √2.
        float[] two = raw.Encode([5f]);
        two[0].Should().BeApproximately(2f, 1e-6f);
        two[1].Should().BeApproximately(3f / MathF.Sqrt(2), 1e-6f);
        var meansOnly = new FisherVectorEncoder(mixture, new FisherVectorOptions { Variances = false });
        meansOnly.Length.Should().Be(1);
        meansOnly.Encode([5f])[0].Should().BeApproximately(1f, 1e-6f);
    }

    [Fact]
    public void NoDescriptors_EncodeToZero_AndBadInputIsRejected()
    {
        var encoder = new FisherVectorEncoder(new GaussianMixture([1f], [0f, 0f], [1f, 1f], 2));
        encoder.Encode(ReadOnlySpan<float>.Empty).Should().OnlyContain(v => v == 0);
        FluentActions.Invoking(() => encoder.Encode([1f, 2f, 3f])).Should().Throw<ArgumentException>().WithMessage("*dimension mismatch*");
        FluentActions.Invoking(() => new FisherVectorEncoder(encoder.Mixture, new FisherVectorOptions { Means = false, Variances = false }))
            .Should().Throw<ArgumentException>();
    }
}
