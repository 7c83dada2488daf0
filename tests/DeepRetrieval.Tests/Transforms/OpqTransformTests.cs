using DeepRetrieval.Clustering;
using DeepRetrieval.Persistence;
using DeepRetrieval.Quantization;
using DeepRetrieval.Transforms;

namespace DeepRetrieval.Tests.Transforms;

public class OpqTransformTests
{
    /// <summary>
    /// Correlated, anisotropic data: independent components with standard deviations falling from 4 to 0.25, mixed by
    /// a random rotation, so every coordinate carries a share of every direction and the subspaces of a plain PQ are
    /// strongly dependent.
    /// </summary>
    internal static float[] CorrelatedData(int rows, int d, int seed)
    {
        float[] z = TestData.Gaussian(rows, d, seed);
        float[] mix = PcaTransform.ToRowMajor(PcaTransform.RandomOrthogonal(d, seed + 1));
        var data = new float[rows * d];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < d; j++)
            {
                float value = 0f;
                for (int i = 0; i < d; i++) value += 4f * MathF.Pow(16f, -i / (float)(d - 1)) * z[r * d + i] * mix[i * d + j];
                data[r * d + j] = value;
            }
        return data;
    }

    internal static double PqError(float[] data, int d, int m, int bits)
    {
        var pq = new ProductQuantizer(d, m, bits);
        pq.Train(data, new KMeansOptions { Iterations = 15 });
        var codes = new byte[data.Length / d * pq.CodeSize];
        var decoded = new float[data.Length];
        pq.Encode(data, codes);
        pq.Decode(codes, decoded);
        double error = 0;
        for (int i = 0; i < data.Length; i++) error += (data[i] - decoded[i]) * (double)(data[i] - decoded[i]);
        return error / (data.Length / d);
    }

    [Fact]
    public void Opq_LowersPqReconstructionError_OnCorrelatedData()
    {
        const int d = 16, m = 4, bits = 5, n = 2000;
        float[] data = CorrelatedData(n, d, 1);
        var opq = new OpqTransform(d, m, bitsPerCode: bits, iterations: 6);
        opq.Train(data);
        var rotated = new float[data.Length];
        opq.Apply(data, rotated);

        double plain = PqError(data, d, m, bits);
        double optimized = PqError(rotated, d, m, bits);
        // Measured: 9.6 without and 4.9 with OPQ (3000 vectors, 8 iterations).
        optimized.Should().BeLessThan(0.75 * plain, "the rotation decorrelates the subspaces (plain {0:F3})", plain);
        opq.TrainingErrors.Should().HaveCount(6);
        opq.TrainingErrors[^1].Should().BeLessThan(opq.TrainingErrors[0]);
    }

    [Theory]
    [InlineData(12, 3, 0)]
    [InlineData(12, 2, 8)]
    public void Rotation_HasOrthonormalRows_AndReverseUndoesIt(int d, int m, int outputDimension)
    {
        float[] data = CorrelatedData(400, d, 2);
        var opq = new OpqTransform(d, m, outputDimension, bitsPerCode: 4, iterations: 3);
        opq.Train(data);
        int d2 = opq.OutputDimension;
        d2.Should().Be(outputDimension == 0 ? d : outputDimension);
        opq.Rotation.Length.Should().Be(d2 * d);
        for (int i = 0; i < d2; i++)
            for (int j = 0; j < d2; j++)
            {
                float dot = 0f;
                for (int t = 0; t < d; t++) dot += opq.Rotation[i * d + t] * opq.Rotation[j * d + t];
                dot.Should().BeApproximately(i == j ? 1f : 0f, 1e-4f);
            }

        var y = new float[400 * d2];
        var back = new float[400 * d];
        opq.Apply(data, y);
        opq.ReverseTransform(y, back);
        if (d2 == d)
        {
            for (int i = 0; i < data.Length; i++) back[i].Should().BeApproximately(data[i], 1e-3f);
        }
        else
        {
            // A projection onto a subspace: applying it again changes nothing.
            var again = new float[400 * d2];
            opq.Apply(back, again);
            for (int i = 0; i < y.Length; i++) again[i].Should().BeApproximately(y[i], 1e-3f);
        }
    }

    [Fact]
    public void Train_IsReproducibleFromTheSeed()
    {
        float[] data = CorrelatedData(300, 8, 3);
        var a = new OpqTransform(8, 2, bitsPerCode: 4, iterations: 2, seed: 5);
        var b = new OpqTransform(8, 2, bitsPerCode: 4, iterations: 2, seed: 5);
        a.Train(data);
        b.Train(data);
        a.Rotation.ToArray().Should().Equal(b.Rotation.ToArray());
    }

    [Fact]
    public void WriteAndRead_RoundTrips_AndRejectsANonOrthonormalRotation()
    {
        float[] data = CorrelatedData(300, 8, 4);
        var opq = new OpqTransform(8, 2, 6, bitsPerCode: 4, iterations: 2, seed: 9);
        opq.Train(data);
        var stream = new MemoryStream();
        opq.Write(new IndexPayloadWriter(stream));
        byte[] bytes = stream.ToArray();
        OpqTransform Read(byte[] payload) => OpqTransform.Read(new IndexPayloadReader(new MemoryStream(payload), payload.Length, "PreTransform"));

        OpqTransform loaded = Read(bytes);
        loaded.InputDimension.Should().Be(8);
        loaded.OutputDimension.Should().Be(6);
        loaded.SubQuantizers.Should().Be(2);
        loaded.BitsPerCode.Should().Be(4);
        loaded.Iterations.Should().Be(2);
        loaded.Seed.Should().Be(9);
        loaded.Rotation.ToArray().Should().Equal(opq.Rotation.ToArray());

        BitConverter.GetBytes(2f).CopyTo(bytes, 24); // the first rotation entry, after six int32 fields
        FluentActions.Invoking(() => Read(bytes)).Should().Throw<InvalidDataException>().WithMessage("*row 0*norm*");
        bytes = stream.ToArray();
        bytes[8] = 4; // M = 4 does not divide 6
        FluentActions.Invoking(() => Read(bytes)).Should().Throw<InvalidDataException>().WithMessage("*not a multiple*");
    }

    [Fact]
    public void BadInput_FailsWithClearExceptions()
    {
        FluentActions.Invoking(() => new OpqTransform(10, 4)).Should().Throw<ArgumentException>().WithMessage("*multiple*");
        FluentActions.Invoking(() => new OpqTransform(8, 2, 10)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*at most*8*");
        FluentActions.Invoking(() => new OpqTransform(8, 2, bitsPerCode: 3)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new OpqTransform(8, 2, iterations: 0)).Should().Throw<ArgumentOutOfRangeException>();
        var opq = new OpqTransform(4, 2, bitsPerCode: 4, iterations: 1);
        FluentActions.Invoking(() => opq.Apply(new float[4], new float[4])).Should().Throw<InvalidOperationException>().WithMessage("*Train*");
        FluentActions.Invoking(() => opq.Train(new float[15 * 4])).Should().Throw<ArgumentException>().WithMessage("*at least 16*");
        FluentActions.Invoking(() => opq.Train(new float[65])).Should().Throw<ArgumentException>().WithMessage("*whole rows*");
        opq.Train(TestData.Gaussian(32, 4, 5));
        FluentActions.Invoking(() => opq.Apply(new float[5], new float[4])).Should().Throw<ArgumentException>().WithMessage("*dimension 4*");
        FluentActions.Invoking(() => opq.Apply(new float[8], new float[4])).Should().Throw<ArgumentException>().WithMessage("*2 rows*");
    }
}
