using DeepRetrieval.Torch.Onnx;

namespace DeepRetrieval.Torch.Tests.Onnx;

public sealed class OnnxModelReaderTests
{
    private static byte[] SmallModel() => ProtoWriter.Model(g => g
        .Message(1, ProtoWriter.Node("Conv", ["x", "w", "b"], ["y"],
            ProtoWriter.IntsAttribute("pads", 3, 3, 2, 2),
            ProtoWriter.IntAttribute("group", 4),
            ProtoWriter.FloatAttribute("alpha", 0.25f),
            a => a.String(1, "scales").PackedFloats(7, [1.5f, -2f]).Varint(20, 6),
            a => a.String(1, "auto_pad").String(4, "NOTSET").Varint(20, 3),
            a => a.String(1, "value").Message(5, ProtoWriter.FloatTensor("", [2], [7f, 8f])).Varint(20, 4)))
        .String(2, "tiny")
        .Message(5, ProtoWriter.FloatTensor("w", [2, 1, 1, 2], [1f, 2f, 3f, 4f]))
        .Message(5, ProtoWriter.FloatTensor("b", [2], [0.5f, -0.5f], raw: false))
        .Message(5, t => t.PackedVarints(1, [3]).Varint(2, 7).String(8, "shape").PackedVarints(7, [1, -1, 300]))
        .Message(11, v => v.String(1, "x").Message(2, type => type.Message(1, tensor => tensor.Varint(1, 1).Message(2, s => s
            .Message(1, d => d.String(2, "N")).Message(1, d => d.Varint(1, 3)).Message(1, d => d.Varint(1, 8)).Message(1, d => d.Varint(1, 8))))))
        .Message(12, ProtoWriter.ValueInfo("y", 1, 2, 8, 8)));

    [Fact]
    public void Parse_ReadsVersionsGraphNodesAttributesAndInitializers()
    {
        var model = OnnxModel.Parse(SmallModel(), "small.onnx");
        model.IrVersion.Should().Be(8);
        model.OpsetVersion.Should().Be(17);
        model.ProducerName.Should().Be("tests");
        var graph = model.Graph;
        graph.Name.Should().Be("tiny");
        var node = graph.Nodes.Single();
        node.OpType.Should().Be("Conv");
        node.Name.Should().Be("y_node");
        node.Inputs.Should().Equal("x", "w", "b");
        node.Outputs.Should().Equal("y");
        node.GetInts("pads").Should().Equal(3L, 3L, 2L, 2L);
        node.GetInt("group", 1).Should().Be(4);
        node.GetInt("missing", 9).Should().Be(9);
        node.GetFloat("alpha", 0).Should().Be(0.25f);
        node.Attributes["scales"].Floats.Should().Equal(1.5f, -2f);
        node.GetString("auto_pad", "").Should().Be("NOTSET");
        node.Attributes["value"].Type.Should().Be(OnnxAttributeType.Tensor);
        node.Attributes["value"].Tensor!.FloatData.Should().Equal(7f, 8f);
        graph.Initializers["w"].Dims.Should().Equal(2L, 1L, 1L, 2L);
        graph.Initializers["w"].FloatData.Should().Equal(1f, 2f, 3f, 4f);
        graph.Initializers["b"].FloatData.Should().Equal(0.5f, -0.5f);
        graph.Initializers["shape"].Int64Data.Should().Equal(1L, -1L, 300L);
        graph.Initializers["shape"].DataType.Should().Be(OnnxDataType.Int64);
        graph.Inputs.Single().Shape.Should().Equal(null, 3L, 8L, 8L);
        graph.DataInputs.Select(i => i.Name).Should().Equal("x");
        graph.Outputs.Single().Shape.Should().Equal(1L, 2L, 8L, 8L);
    }

    [Fact]
    public void Parse_AcceptsUnpackedRepeatedFields_AndSkipsUnknownFields()
    {
        var bytes = ProtoWriter.Model(g => g
            .Message(1, n => n.String(4, "MaxPool").String(1, "x").String(2, "y").Varint(99, 5)
                .Message(5, a => a.String(1, "kernel_shape").Varint(8, 3).Varint(8, 3)))
            .Message(5, t => t.Varint(1, 2).Varint(1, 1).Varint(2, 1).String(8, "w").Float(4, 1f).Float(4, 2f)));
        var model = OnnxModel.Parse(bytes);
        model.Graph.Nodes[0].GetInts("kernel_shape").Should().Equal(3L, 3L);
        model.Graph.Nodes[0].Attributes["kernel_shape"].Type.Should().Be(OnnxAttributeType.Ints);
        model.Graph.Initializers["w"].FloatData.Should().Equal(1f, 2f);
    }

    [Fact]
    public void Parse_RejectsEveryTruncationInsideTheGraph_NamingTheSource()
    {
        byte[] bytes = SmallModel();
        int graphStart = ProtoWriter.Model(_ => { }).Length; // the model fields before the graph, its tag and a length byte: past it, every cut is inside the graph
        for (int cut = bytes.Length - 1; cut > graphStart; cut -= 7)
        {
            FluentActions.Invoking(() => OnnxModel.Parse(bytes.AsMemory(0, cut), "cut.onnx"))
                .Should().Throw<InvalidDataException>().WithMessage("*'cut.onnx'*truncated*graph*");
        }
    }

    [Fact]
    public void Parse_RejectsTruncatedNestedMessage_NamingTheField()
    {
        // An initializer announcing 40 raw bytes but carrying 8, inside a well-formed graph.
        var tensor = new ProtoWriter().PackedVarints(1, [10]).Varint(2, 1).String(8, "w").Tag(9, 2).RawVarint(40).Raw(new byte[8]).ToArray();
        var bytes = ProtoWriter.Model(g => g.Bytes(5, tensor));
        FluentActions.Invoking(() => OnnxModel.Parse(bytes, "nested.onnx"))
            .Should().Throw<InvalidDataException>().WithMessage("*'nested.onnx'*graph.initializer[0]*raw_data*");
    }

    [Theory]
    [InlineData(new byte[] { 0x0B }, "*wire type 3*")]
    [InlineData(new byte[] { 0x00, 0x01 }, "*field number 0*")]
    [InlineData(new byte[] { 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 }, "*varint*")]
    [InlineData(new byte[] { 0x08, 0x01 }, "*no graph*")]
    public void Parse_RejectsCorruptBytes(byte[] bytes, string message)
    {
        FluentActions.Invoking(() => OnnxModel.Parse(bytes, "bad.onnx"))
            .Should().Throw<InvalidDataException>().WithMessage(message).WithMessage("*bad.onnx*");
    }

    [Fact]
    public void Parse_RejectsExternalData_UnsupportedTypes_AndWrongValueCounts()
    {
        var external = ProtoWriter.Model(g => g.Message(5, t => t.PackedVarints(1, [2]).Varint(2, 1).String(8, "w")
            .Message(13, e => e.String(1, "location").String(2, "weights.bin")).Varint(14, 1)));
        FluentActions.Invoking(() => OnnxModel.Parse(external, "ext.onnx"))
            .Should().Throw<InvalidDataException>().WithMessage("*ext.onnx*'w'*external*not supported*");

        var complex = ProtoWriter.Model(g => g.Message(5, t => t.PackedVarints(1, [1]).Varint(2, 14).String(8, "c").Bytes(9, new byte[8])));
        FluentActions.Invoking(() => OnnxModel.Parse(complex, "c.onnx"))
            .Should().Throw<InvalidDataException>().WithMessage("*'c'*Complex64 (14)*not supported*");

        var wrongCount = ProtoWriter.Model(g => g.Message(5, ProtoWriter.FloatTensor("w", [2, 2], [1f, 2f, 3f], raw: false)));
        FluentActions.Invoking(() => OnnxModel.Parse(wrongCount, "n.onnx"))
            .Should().Throw<InvalidDataException>().WithMessage("*'w'*3 values*[2, 2]*4*");

        var wrongRaw = ProtoWriter.Model(g => g.Message(5, t => t.PackedVarints(1, [3]).Varint(2, 1).String(8, "r").Bytes(9, new byte[8])));
        FluentActions.Invoking(() => OnnxModel.Parse(wrongRaw, "r.onnx"))
            .Should().Throw<InvalidDataException>().WithMessage("*raw_data of tensor 'r'*8 bytes*");
    }

    [Fact]
    public void Parse_DecodesHalfDoubleAndSmallIntegerTypes()
    {
        var bytes = ProtoWriter.Model(g => g
            .Message(5, t => t.PackedVarints(1, [2]).Varint(2, 10).String(8, "h").Bytes(9, [.. BitConverter.GetBytes((Half)1.5f), .. BitConverter.GetBytes((Half)(-2f))]))
            .Message(5, t => t.PackedVarints(1, [1]).Varint(2, 11).String(8, "d").Bytes(9, BitConverter.GetBytes(0.125)))
            .Message(5, t => t.PackedVarints(1, [3]).Varint(2, 3).String(8, "i8").Bytes(9, [0xFF, 0x05, 0x80])));
        var graph = OnnxModel.Parse(bytes).Graph;
        graph.Initializers["h"].FloatData.Should().Equal(1.5f, -2f);
        graph.Initializers["d"].FloatData.Should().Equal(0.125f);
        graph.Initializers["i8"].Int64Data.Should().Equal(-1L, 5L, -128L);
    }

    [Fact]
    public void Load_NamesTheFile_WhenMissingOrCut()
    {
        FluentActions.Invoking(() => OnnxModel.Load("/nonexistent/model.onnx")).Should().Throw<FileNotFoundException>().WithMessage("*model.onnx*");
        string path = Path.Combine(Path.GetTempPath(), $"cut-{Guid.NewGuid():N}.onnx");
        try
        {
            byte[] bytes = SmallModel();
            File.WriteAllBytes(path, bytes[..^5]);
            FluentActions.Invoking(() => OnnxModel.Load(path)).Should().Throw<InvalidDataException>().WithMessage($"*{path}*");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
