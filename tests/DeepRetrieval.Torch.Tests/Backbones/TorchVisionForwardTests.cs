using System.Globalization;
using System.Runtime.CompilerServices;
using DeepRetrieval.Torch.Backbones;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Backbones;

/// <summary>
/// Eval-mode outputs against PyTorch: Fixtures/reference_outputs.py builds plain-torch replicas of torchvision's layouts
/// (with torchvision's forward code: residual adds, ReLU inside squeeze-excitation, hard-swish), fills every state-dict
/// entry with a function of its key and element index, and records the output for sin(0.1 i) images. Filling the C#
/// networks the same way must give the same maps, so names, shapes and forward semantics all agree.
/// </summary>
public sealed class TorchVisionForwardTests
{
    [Theory]
    [InlineData("resnet18")]
    [InlineData("mobilenet_v2")]
    [InlineData("mobilenet_v3_small")]
    public void EvalOutput_EqualsPyTorchReference_ForDeterministicWeights(string name)
    {
        using var scope = NewDisposeScope();
        using Backbone net = name == "resnet18" ? new TorchVisionResNet(name) : new TorchVisionMobileNet(name);
        Fill(net);
        net.eval();
        var (shape, expected) = ReadReference(name);
        var images = sin(0.1 * arange(2 * 3 * 64 * 64, ScalarType.Float32)).reshape(2, 3, 64, 64);

        using var _ = no_grad();
        var output = net.forward(images);
        output.shape.Should().Equal(shape);
        var reference = tensor(expected).reshape(shape);
        double scale = reference.abs().max().item<float>();
        (output - reference).abs().max().item<float>().Should().BeLessThan((float)(1e-4 * scale));
    }

    // Mirrors fill() in reference_outputs.py.
    private static void Fill(nn.Module net)
    {
        using var _ = no_grad();
        foreach (var (key, value) in net.state_dict())
        {
            if (key.EndsWith("num_batches_tracked", StringComparison.Ordinal))
                continue;
            var w = sin(0.37 * arange(value.numel(), ScalarType.Float64) + key.Length);
            Tensor filled;
            if (key.EndsWith("running_var", StringComparison.Ordinal))
                filled = 0.5 + 0.25 * (1 + w);
            else if (key.EndsWith("running_mean", StringComparison.Ordinal))
                filled = 0.1 * w;
            else if (key.EndsWith("fc1.bias", StringComparison.Ordinal))
                filled = 8 + w; // squeeze activations above 6, where ReLU and ReLU6 differ
            else if (value.dim() == 4)
                filled = w * Math.Sqrt(2.0 / (value.shape[1] * value.shape[2] * value.shape[3]));
            else if (key.EndsWith("weight", StringComparison.Ordinal))
                filled = 1 + 0.1 * w;
            else
                filled = 0.1 * w;
            value.copy_(filled.reshape(value.shape).to(value.dtype));
        }
    }

    private static (long[] Shape, float[] Values) ReadReference(string name, [CallerFilePath] string sourceFile = "")
    {
        var lines = File.ReadAllLines(Path.Combine(Path.GetDirectoryName(sourceFile)!, "Fixtures", name + ".output.txt"));
        long[] shape = lines[0].Split(' ').Select(long.Parse).ToArray();
        float[] values = lines.Skip(1).Where(l => l.Length > 0).Select(l => float.Parse(l, CultureInfo.InvariantCulture)).ToArray();
        return (shape, values);
    }
}
