using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using DeepRetrieval.Distances;

namespace DeepRetrieval.Benchmarks;

/// <summary>
/// One pair of vectors per call: the library's vectorised kernels (<see cref="Distance"/>, the baseline of each
/// category) against the scalar reference (<see cref="ScalarDistance"/>) and <see cref="TensorPrimitives"/>.
/// Hamming compares codes of <see cref="Dimension"/> bits (<see cref="Dimension"/>/8 bytes).
/// </summary>
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class DistanceBenchmarks
{
    private float[] _x = [];
    private float[] _y = [];
    private byte[] _codeX = [];
    private byte[] _codeY = [];

    [Params(128, 784, 960)]
    public int Dimension { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _x = RandomData.Floats(Dimension, seed: 1);
        _y = RandomData.Floats(Dimension, seed: 2);
        _codeX = RandomData.Bytes(Dimension / 8, seed: 3);
        _codeY = RandomData.Bytes(Dimension / 8, seed: 4);
    }

    [Benchmark(Baseline = true), BenchmarkCategory("SquaredL2")]
    public float SquaredL2() => Distance.SquaredL2(_x, _y);

    [Benchmark, BenchmarkCategory("SquaredL2")]
    public float SquaredL2_Scalar() => ScalarDistance.SquaredL2(_x, _y);

    // TensorPrimitives has no squared distance: square its Euclidean distance (the sqrt costs a few cycles).
    [Benchmark, BenchmarkCategory("SquaredL2")]
    public float SquaredL2_TensorPrimitives()
    {
        float distance = TensorPrimitives.Distance(_x, _y);
        return distance * distance;
    }

    [Benchmark(Baseline = true), BenchmarkCategory("InnerProduct")]
    public float InnerProduct() => Distance.InnerProduct(_x, _y);

    [Benchmark, BenchmarkCategory("InnerProduct")]
    public float InnerProduct_Scalar() => ScalarDistance.InnerProduct(_x, _y);

    [Benchmark, BenchmarkCategory("InnerProduct")]
    public float InnerProduct_TensorPrimitives() => TensorPrimitives.Dot(_x, _y);

    [Benchmark(Baseline = true), BenchmarkCategory("Cosine")]
    public float Cosine() => Distance.Cosine(_x, _y);

    [Benchmark, BenchmarkCategory("Cosine")]
    public float Cosine_Scalar() => ScalarDistance.Cosine(_x, _y);

    [Benchmark, BenchmarkCategory("Cosine")]
    public float Cosine_TensorPrimitives() => TensorPrimitives.CosineSimilarity(_x, _y);

    [Benchmark(Baseline = true), BenchmarkCategory("Hamming")]
    public int Hamming() => Distance.Hamming(_codeX, _codeY);

    [Benchmark, BenchmarkCategory("Hamming")]
    public int Hamming_Scalar() => ScalarDistance.Hamming(_codeX, _codeY);

    [Benchmark, BenchmarkCategory("Hamming")]
    public long Hamming_TensorPrimitives() => TensorPrimitives.HammingBitDistance<byte>(_codeX, _codeY);
}
