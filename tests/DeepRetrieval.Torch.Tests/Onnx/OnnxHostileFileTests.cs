using DeepRetrieval.Torch.Onnx;

namespace DeepRetrieval.Torch.Tests.Onnx;

/// <summary>Issue 16, finding 5: ONNX sizes are checked before they are multiplied or converted.</summary>
public sealed class OnnxHostileFileTests
{
    [Fact]
    public void Parse_RejectsInitializerDimsWhoseProductOverflows()
    {
        // Before: dims [2^40, 2^40] made the element count's checked multiplication throw OverflowException.
        byte[] bytes = ProtoWriter.Model(g => g.Message(5, ProtoWriter.FloatTensor("w", [1L << 40, 1L << 40], [])));
        FluentActions.Invoking(() => OnnxModel.Parse(bytes, "huge.onnx")).Should().Throw<InvalidDataException>()
            .WithMessage("ONNX file 'huge.onnx': *tensor 'w' has dims [1099511627776, 1099511627776]*");
    }

    [Fact]
    public void ImportResNet_RejectsAConvolutionWithGroupZero_BeforeDividingByIt()
    {
        // Before: group 0 reached the channel arithmetic as an unchecked int (input channels 0 × group) and the file was
        // rejected with a wrong reason ("is a 7 × 7 stride-2 convolution; the supported stem is 7 × 7 with stride 2").
        byte[] bytes = ProtoWriter.Model(g => g
            .Message(1, ProtoWriter.Node("Conv", ["x", "w"], ["y"], ProtoWriter.IntsAttribute("strides", 2, 2),
                ProtoWriter.IntsAttribute("pads", 3, 3, 3, 3), ProtoWriter.IntAttribute("group", 0)))
            .Message(5, ProtoWriter.FloatTensor("w", [64, 3, 7, 7], new float[64 * 3 * 49]))
            .Message(11, ProtoWriter.ValueInfo("x", 1, 3, 224, 224))
            .Message(12, ProtoWriter.ValueInfo("y", 1, 64, 112, 112)));
        var model = OnnxModel.Parse(bytes, "group0.onnx");
        FluentActions.Invoking(() => OnnxImporter.ImportResNet(model)).Should().Throw<InvalidDataException>()
            .WithMessage("*group0.onnx*has group 0*");
    }
}
