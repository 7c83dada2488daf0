using BenchmarkDotNet.Attributes;
using DeepRetrieval.Torch.Pooling;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Benchmarks.Losses;

/// <summary>
/// Forward + backward of each pooling layer on a batch of 64 float32 CPU feature maps of 512 channels at 7 × 7 (a ResNet/VGG
/// last block at 224 px): the cost pooling adds to a training step.
/// </summary>
public class PoolingBenchmarks
{
    private const int Batch = 64, Channels = 512, Side = 7;

    private Tensor _maps = null!;
    private GeM _gem = null!;
    private MAC _mac = null!;
    private RMAC _rmac = null!;
    private BilinearPooling _bilinear = null!;
    private CompactBilinearPooling _compact = null!;

    [GlobalSetup]
    public void Setup()
    {
        // ReLU outputs are non-negative and sparse-ish; rand is close enough for timing.
        _maps = rand([Batch, Channels, Side, Side], generator: new Generator(1));
        _gem = new GeM();
        _mac = new MAC();
        _rmac = new RMAC();
        _bilinear = new BilinearPooling();
        _compact = new CompactBilinearPooling(Channels, Channels, 8192);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _maps.Dispose();
        foreach (nn.Module module in new nn.Module[] { _gem, _mac, _rmac, _bilinear, _compact }) module.Dispose();
    }

    [Benchmark(Baseline = true)]
    public float Mac() => ForwardBackward(_mac);

    [Benchmark]
    public float GeM() => ForwardBackward(_gem);

    [Benchmark]
    public float Rmac() => ForwardBackward(_rmac);

    [Benchmark]
    public float Bilinear() => ForwardBackward(_bilinear);

    [Benchmark]
    public float CompactBilinear() => ForwardBackward(_compact);

    private float ForwardBackward(nn.Module<Tensor, Tensor> layer)
    {
        using var scope = NewDisposeScope();
        Tensor input = _maps.detach().requires_grad_(true);
        Tensor loss = layer.call(input).sum();
        loss.backward();
        return input.grad!.sum().item<float>();
    }
}
