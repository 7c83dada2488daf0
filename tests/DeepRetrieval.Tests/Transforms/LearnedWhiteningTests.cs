using System.Text.Json;
using DeepRetrieval.Transforms;

namespace DeepRetrieval.Tests.Transforms;

public class LearnedWhiteningTests
{
    public static TheoryData<string> Cases() => new(ReferenceFixture.ReadJson("whitening_cases.json").GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("name").GetString()!));

    // Expected values: cirtorch's whitenlearn / whitenapply (and the non-matching-pairs form in numpy), Reference/whitening_reference.py.
    [Theory]
    [MemberData(nameof(Cases))]
    public void Apply_MatchesCirtorch_UpToTheSignOfEachDimension(string name)
    {
        JsonElement root = ReferenceFixture.ReadJson("whitening_cases.json");
        JsonElement c = root.GetProperty("cases").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        int d = root.GetProperty("dimension").GetInt32(), dims = c.GetProperty("dims").GetInt32();
        float[] vectors = root.GetProperty("vectors").Floats();
        int n = vectors.Length / d;
        var whitening = c.GetProperty("nonMatching").GetBoolean()
            ? new LearnedWhitening(d, dims, root.GetProperty("queries").Ints(), root.GetProperty("positives").Ints(),
                root.GetProperty("negativeFirst").Ints(), root.GetProperty("negativeSecond").Ints())
            : new LearnedWhitening(d, dims, root.GetProperty("queries").Ints(), root.GetProperty("positives").Ints());

        whitening.Train(vectors);
        var output = new float[n * dims];
        whitening.Apply(vectors, output);

        whitening.Mean.ToArray().Should().Equal(c.GetProperty("mean").Doubles().Select(v => (float)v), (a, b) => Math.Abs(a - b) < 1e-5f);
        double[] gram = c.GetProperty("gram").Doubles(), absolute = c.GetProperty("absolute").Doubles();
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < dims; k++)
                Math.Abs(output[i * dims + k]).Should().BeApproximately((float)absolute[i * dims + k], 2e-4f);
            for (int j = 0; j < n; j++)
            {
                double dot = 0;
                for (int k = 0; k < dims; k++) dot += output[i * dims + k] * output[j * dims + k];
                dot.Should().BeApproximately(gram[i * n + j], 2e-4);
            }
        }
    }

    [Fact]
    public void Train_AddsARidge_WhenThePairsCannotSpanTheSpace()
    {
        float[] vectors = TestData.Gaussian(20, 5, seed: 9);
        var whitening = new LearnedWhitening(5, 5, [0, 1], [2, 3]); // 2 differences in 5 dimensions: singular
        whitening.Train(vectors);
        whitening.Ridge.Should().BeGreaterThan(0);
        whitening.Projection.ToArray().Should().OnlyContain(v => float.IsFinite(v));
    }

    [Fact]
    public void Constructor_And_Train_RejectBadPairs()
    {
        FluentActions.Invoking(() => new LearnedWhitening(4, 4, [0, 1], [2])).Should().Throw<ArgumentException>().WithParameterName("positiveRows");
        FluentActions.Invoking(() => new LearnedWhitening(4, 4, [], [])).Should().Throw<ArgumentException>().WithParameterName("queryRows");
        FluentActions.Invoking(() => new LearnedWhitening(4, 5, [0], [1])).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("outputDimension");
        FluentActions.Invoking(() => new LearnedWhitening(2, 2, [0], [9]).Train(new float[8])).Should().Throw<ArgumentException>().WithParameterName("vectors").WithMessage("*row 9*");
        FluentActions.Invoking(() => new LearnedWhitening(2, 2, [0], [1]).Apply(new float[2], new float[2])).Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void MultiScaleAveraging_TakesTheGeneralisedMeanAndNormalises()
    {
        // Two scales of one 2-d descriptor: (1, 2) and (3, 0). p = 1: mean (2, 1) → (0.894427, 0.447214).
        // p = 2: sqrt((1 + 9)/2) = √5, sqrt((4 + 0)/2) = √2 → (√5, √2)/√7 = (0.845154, 0.534522).
        var output = new float[2];
        MultiScaleAveraging.Combine([1, 2, 3, 0], 2, 2, output);
        output.Should().Equal([0.894427f, 0.447214f], (a, b) => Math.Abs(a - b) < 1e-5f);
        MultiScaleAveraging.Combine([1, 2, 3, 0], 2, 2, output, power: 2);
        output.Should().Equal([0.845154f, 0.534522f], (a, b) => Math.Abs(a - b) < 1e-5f);
        FluentActions.Invoking(() => MultiScaleAveraging.Combine([1, -2, 3, 0], 2, 2, output, power: 3)).Should().Throw<ArgumentException>().WithParameterName("descriptors");
        FluentActions.Invoking(() => MultiScaleAveraging.Combine([1, 2, 3], 2, 2, output)).Should().Throw<ArgumentException>().WithParameterName("descriptors");
    }
}
