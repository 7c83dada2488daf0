using DeepRetrieval.OnnxRuntime.Models;
using DeepRetrieval.Torch.Tests.Onnx;

namespace DeepRetrieval.OnnxRuntime.Tests.Models;

/// <summary>
/// Issue 16, finding 5: a model whose declared input or output dimensions are negative, overflow 32 bits (ONNX Runtime
/// reports dimensions as int and truncated 2^40 to 0, "dynamic") or describe an absurd image gets a clear exception.
/// </summary>
public sealed class DeclaredDimensionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dr-onnx-dims-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    // Before: ONNX Runtime truncated 2^40 to 0, so the embedder took the size for dynamic and asked for InputHeight
    // (ArgumentException about options), and with InputHeight set ran a model whose declared shape it had misread.
    [InlineData(1L << 40, "*graph input 'images' declares dimension 2 as 1099511627776*")]
    [InlineData((1L << 31) + 5, "*graph input 'images' declares dimension 2 as 2147483653*")]
    // Before: a varint of 2^64 − 5 (-5 as int64) reached ONNX Runtime as a negative size.
    [InlineData(-5L, "*graph input 'images' declares dimension 2 as -5*")]
    public void Embedder_RejectsDeclaredInputDimensionsOutsideInt32(long height, string message)
    {
        string path = Write(height, 8);
        FluentActions.Invoking(() => new OnnxEmbedder(path)).Should().Throw<InvalidDataException>().WithMessage($"*{path}*").WithMessage(message);
        FluentActions.Invoking(() => OnnxModelGraph.Read(path)).Should().Throw<InvalidDataException>().WithMessage(message);
    }

    [Fact]
    public void Embedder_RejectsADeclaredImageLargerThanAnArray()
    {
        // Before: 3 × 65536 × 65536 floats per image passed every check and the first shape probe failed with an overflow
        // or out-of-memory error deep in the embedder.
        string path = Write(65536, 65536);
        FluentActions.Invoking(() => new OnnxEmbedder(path)).Should().Throw<InvalidDataException>()
            .WithMessage($"*{path}*declares an input 'images' [1, 3, 65536, 65536] of more than*elements*");
    }

    [Fact]
    public void Embedder_StillLoadsTheSameModelWithSensibleDimensions()
    {
        using var embedder = new OnnxEmbedder(Write(8, 8));
        embedder.InputHeight.Should().Be(8);
        embedder.Dimension.Should().Be(3);
    }

    // images [1, 3, H, W] → GlobalAveragePool → Flatten → embedding [1, 3].
    private string Write(long height, long width)
    {
        byte[] model = ProtoWriter.Model(g => g
            .Message(1, ProtoWriter.Node("GlobalAveragePool", ["images"], ["pooled"]))
            .Message(1, ProtoWriter.Node("Flatten", ["pooled"], ["embedding"]))
            .String(2, "dims")
            .Message(11, ProtoWriter.ValueInfo("images", 1, 3, height, width))
            .Message(12, ProtoWriter.ValueInfo("embedding", 1, 3)));
        string path = Path.Combine(_dir, $"dims_{height}_{width}.onnx");
        File.WriteAllBytes(path, model);
        return path;
    }
}
