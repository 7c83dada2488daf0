using DeepRetrieval.OnnxRuntime.Models;

namespace DeepRetrieval.OnnxRuntime.Tests.Models;

public class OnnxModelGraphTests
{
    [Fact]
    public void Read_ListsInputsOutputsAndNodes_OfAPyTorchExport()
    {
        OnnxModelGraph graph = OnnxModelGraph.Read(TestFiles.Reference("tiny_cnn.onnx"));
        graph.ProducerName.Should().Be("pytorch");
        graph.IrVersion.Should().BePositive();
        graph.Inputs.Should().Equal("images");
        graph.Outputs.Should().Equal("embedding", "features");
        graph.Nodes.Select(n => n.OpType).Should().ContainInOrder("Conv", "Relu", "Conv", "Relu", "GlobalAveragePool", "Flatten");
        graph.LastPoolingInput.Should().Be("features");
        graph.Produces("features").Should().BeTrue();
        graph.Produces(graph.Nodes[1].Outputs[0]).Should().BeTrue();
        graph.Produces("images").Should().BeFalse("graph inputs are not produced by a node");
        graph.HasExternalData.Should().BeFalse();
    }

    [Fact]
    public void Read_FindsTheFeatureMapBeforeTheCntkAveragePool_OfMlNetsResNet18()
    {
        OnnxModelGraph graph = OnnxModelGraph.Read(MlNetResNet18.ModelPath(TestFiles.DnnImageModels));
        graph.ProducerName.Should().Be("CNTK");
        graph.Inputs.Should().Equal("Input247");
        graph.Outputs.Should().Equal("Pooling395_Output_0");
        graph.Nodes.Count(n => n.OpType == "Conv").Should().Be(22);
        graph.LastPoolingInput.Should().Be("ReLU393_Output_0");
    }

    [Fact]
    public void Read_MergesAGraphThatOccursTwice_AsProtobufParsersDo()
    {
        byte[] model = File.ReadAllBytes(TestFiles.Reference("tiny_cnn.onnx"));
        byte[] extended = OnnxModelFile.WithExtraOutputs(model, ["extra_a", "extra_b"]);
        OnnxModelGraph.Parse(extended, "extended.onnx").Outputs.Should().Equal("embedding", "features", "extra_a", "extra_b");
    }

    [Fact]
    public void Read_ThrowsInvalidData_ForFilesThatAreNotModels()
    {
        byte[] model = File.ReadAllBytes(TestFiles.Reference("tiny_cnn.onnx"));
        FluentActions.Invoking(() => OnnxModelGraph.Parse(model.AsSpan(0, model.Length - 100), "cut.onnx"))
            .Should().Throw<InvalidDataException>().WithMessage("'cut.onnx' is not an ONNX model (or is truncated or corrupt): field 7 announces * bytes but * remain*");
        FluentActions.Invoking(() => OnnxModelGraph.Parse(File.ReadAllBytes(TestFiles.Photos[0]), "photo.jpg"))
            .Should().Throw<InvalidDataException>().WithMessage("'photo.jpg' is not an ONNX model*");
        // Valid protobuf, but no graph: field 1 (ir_version) = 8 only.
        FluentActions.Invoking(() => OnnxModelGraph.Parse([0x08, 0x08], "no-graph.onnx"))
            .Should().Throw<InvalidDataException>().WithMessage("*no-graph.onnx' is not an ONNX model: it has no graph*");
        FluentActions.Invoking(() => OnnxModelGraph.Parse([0x08, 0xFF], "bad-varint.onnx"))
            .Should().Throw<InvalidDataException>().WithMessage("*runs past the end*");
        FluentActions.Invoking(() => OnnxModelGraph.Parse([0x0B, 0x00], "group.onnx"))
            .Should().Throw<InvalidDataException>().WithMessage("*wire type 3*");
        FluentActions.Invoking(() => OnnxModelGraph.Read("/nonexistent/model.onnx")).Should().Throw<FileNotFoundException>();
    }
}
