using DeepRetrieval.Aggregation;
using DeepRetrieval.Transforms;

namespace DeepRetrieval.Tests.Aggregation;

public class VladEncoderTests
{
    [Fact]
    public void Encode_SumsResidualsPerWord_ByHand()
    {
        // Words (0, 0) and (10, 0). Descriptors (1, 2) and (−1, 1) go to word 0: residual sum (0, 3); (12, −1) goes to
        // word 1: residual (2, −1). Without normalisation the VLAD is (0, 3, 2, −1).
        var vocabulary = new VisualVocabulary([0f, 0f, 10f, 0f], 2);
        var raw = new VladEncoder(vocabulary, new VladOptions { Power = 1, L2Normalization = false });
        raw.Encode([1f, 2f, -1f, 1f, 12f, -1f]).Should().Equal(0f, 3f, 2f, -1f);
        // SSR then L2: (0, √3, √2, −1) / √6.
        float[] ssr = new VladEncoder(vocabulary).Encode([1f, 2f, -1f, 1f, 12f, -1f]);
        float[] expected = [0f, MathF.Sqrt(3) / MathF.Sqrt(6), MathF.Sqrt(2) / MathF.Sqrt(6), -1f / MathF.Sqrt(6)];
        for (int i = 0; i < 4; i++) ssr[i].Should().BeApproximately(expected[i], 1e-6f);
        // Intra-normalisation then L2: blocks (0, 1) and (2, −1)/√5, then the whole vector divided by √2.
        float[] intra = new VladEncoder(vocabulary, new VladOptions { Power = 1, IntraNormalization = true }).Encode([1f, 2f, -1f, 1f, 12f, -1f]);
        intra[1].Should().BeApproximately(1f / MathF.Sqrt(2), 1e-6f);
        intra[2].Should().BeApproximately(2f / MathF.Sqrt(5) / MathF.Sqrt(2), 1e-6f);
    }

    [Theory]
    [InlineData(false, "vlad_ssr")]
    [InlineData(true, "vlad_intra")]
    public void Encode_MatchesTheNumpyReference(bool intra, string reference)
    {
        var vocabulary = new VisualVocabulary(AggregationFixtures.Load("vlad_words").Data, 3);
        var options = intra ? new VladOptions { Power = 1, IntraNormalization = true } : new VladOptions();
        float[] vlad = new VladEncoder(vocabulary, options).Encode(AggregationFixtures.Load("vlad_descriptors").Data);
        float[] expected = AggregationFixtures.Load(reference).Data;
        vlad.Length.Should().Be(12);
        for (int i = 0; i < 12; i++) vlad[i].Should().BeApproximately(expected[i], 1e-5f);
    }

    [Fact]
    public void Projection_ReducesWithPcaWhitening_AndRenormalises()
    {
        float[] words = TestData.Gaussian(4, 6, seed: 1);
        var vocabulary = new VisualVocabulary(words, 6);
        var encoder = new VladEncoder(vocabulary);
        float[] training = Enumerable.Range(0, 60).SelectMany(i => encoder.Encode(TestData.Gaussian(20, 6, seed: 100 + i))).ToArray();
        var pca = new PcaTransform(24, 8, whiten: true, whiteningEpsilon: 1e-6f);
        pca.Train(training);
        var reduced = new VladEncoder(vocabulary, projection: pca);
        reduced.Length.Should().Be(8);
        reduced.RawLength.Should().Be(24);
        float[] descriptors = TestData.Gaussian(20, 6, seed: 7);
        float[] vector = reduced.Encode(descriptors);
        System.Numerics.Tensors.TensorPrimitives.Norm(vector).Should().BeApproximately(1f, 1e-5f);
        var manual = new float[8];
        pca.Apply(encoder.Encode(descriptors), manual);
        float norm = System.Numerics.Tensors.TensorPrimitives.Norm(manual);
        for (int i = 0; i < 8; i++) vector[i].Should().BeApproximately(manual[i] / norm, 1e-5f);
    }

    [Fact]
    public void NoDescriptors_EncodeToTheZeroVector()
    {
        var encoder = new VladEncoder(new VisualVocabulary([0f, 1f], 1));
        encoder.Encode(ReadOnlySpan<float>.Empty).Should().Equal(0f, 0f);
    }

    [Fact]
    public void BadArguments_AreRejected()
    {
        var vocabulary = new VisualVocabulary([0f, 0f, 1f, 1f], 2);
        var encoder = new VladEncoder(vocabulary);
        FluentActions.Invoking(() => encoder.Encode([1f, 2f, 3f])).Should().Throw<ArgumentException>().WithMessage("*dimension mismatch*");
        FluentActions.Invoking(() => encoder.Encode([1f, 2f], new float[3])).Should().Throw<ArgumentException>().WithMessage("*4 values*");
        FluentActions.Invoking(() => new VladEncoder(vocabulary, new VladOptions { Power = 0 })).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new VladEncoder(vocabulary, projection: new PcaTransform(4, 2))).Should().Throw<ArgumentException>().WithMessage("*trained*");
    }
}
