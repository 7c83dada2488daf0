using System.Reflection;
using DeepRetrieval.Torch.Backbones;
using DeepRetrieval.Torch.Onnx;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Onnx;

public sealed class OnnxResNet18AcceptanceTests(ITestOutputHelper output)
{
    private static string ResNet18Path => typeof(OnnxResNet18AcceptanceTests).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "ResNet18Onnx").Value!;

    [Fact]
    public void ImportedResNet18_MatchesOnnxRuntime_OnThePooledOutput()
    {
        using var scope = NewDisposeScope();
        var model = OnnxModel.Load(ResNet18Path);
        model.ProducerName.Should().Be("CNTK");
        model.Graph.Nodes.Count(n => n.OpType == "Conv").Should().Be(22);
        model.Graph.Nodes.Count(n => n.OpType == "Add").Should().Be(9);

        var imported = OnnxImporter.ImportResNet(model);
        imported.InputName.Should().Be("Input247");
        imported.PooledOutputName.Should().Be("Pooling395_Output_0");
        imported.Structure.Layers.Should().Equal(2, 2, 2, 3);
        imported.Structure.Padding.Should().Be(ResNetPadding.ExtraAtStart);
        imported.Info.InputSize.Should().Be(224);
        imported.Info.OutputChannels.Should().Be(512);

        var generator = new Generator(2026);
        var images = randn([2, 3, 224, 224], generator: generator);
        Tensor ours;
        using (no_grad())
            ours = imported.Backbone.forward(images).mean([2, 3]);

        using var session = new InferenceSession(ResNet18Path);
        float[] all = images.data<float>().ToArray();
        double maxDifference = 0;
        for (int i = 0; i < 2; i++)
        {
            float[] image = all.AsSpan(i * 3 * 224 * 224, 3 * 224 * 224).ToArray();
            using var input = OrtValue.CreateTensorValueFromMemory(image, [1, 3, 224, 224]);
            using var options = new RunOptions();
            using var results = session.Run(options, ["Input247"], [input], ["Pooling395_Output_0"]);
            float[] reference = results[0].GetTensorDataAsSpan<float>().ToArray();
            reference.Should().HaveCount(512);
            float[] mine = ours[i].data<float>().ToArray();
            maxDifference = Math.Max(maxDifference, mine.Zip(reference, (a, b) => Math.Abs((double)a - b)).Max());
            reference.Select(Math.Abs).Max().Should().BeGreaterThan(0.01f, "the reference output must not be trivially zero");
        }
        output.WriteLine($"max |ours - onnxruntime| on the pooled 512-d output: {maxDifference:E3}");
        maxDifference.Should().BeLessThanOrEqualTo(1e-4);
    }
}
