using DeepRetrieval.Indexes;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Tests.Persistence;

/// <summary>
/// Issue 16, finding 2: a file with a valid checksum that nests parts 20,000 deep used to end the process with a stack
/// overflow. The reader now bounds nesting depth and the number of parts, so such files fail with
/// <see cref="InvalidDataException"/>; and an index cannot be built deeper than a file may hold.
/// </summary>
public class IndexFileFormatTests
{
    private const int Depth = 20_000;

    // A PreTransform payload ends with its inner index, so a chain is the same prefix repeated, then a flat index.
    private static byte[] PreTransformChain(int depth)
    {
        using var stream = new MemoryStream();
        IndexFileFormat.Write(stream, IndexKinds.PreTransform, w =>
        {
            for (int i = 0; i < depth; i++)
            {
                w.WriteInt32(4);                      // dimension
                w.WriteInt64(0);                      // next id
                w.WriteInt32(0);                      // no transforms
                w.WriteString(i == depth - 1 ? IndexKinds.Flat : IndexKinds.PreTransform);
            }
            w.WriteInt32(4);                          // the flat index: dimension, metric, count, next id
            w.WriteInt32(0);
            w.WriteInt64(0);
            w.WriteInt64(0);
            w.WriteAligned<float>([]);                // no vector panels (and no norms)
        });
        return stream.ToArray();
    }

    // An RFlat payload nests its base in the middle: prefixes, the innermost flat index, then the suffixes.
    private static byte[] RefineChain(int depth)
    {
        using var stream = new MemoryStream();
        IndexFileFormat.Write(stream, IndexKinds.RefineFlat, w =>
        {
            for (int i = 0; i < depth; i++)
            {
                w.WriteInt32(4);
                w.WriteInt32(0);
                w.WriteDouble(4.0);                   // k factor
                w.WriteString(i == depth - 1 ? IndexKinds.Flat : IndexKinds.RefineFlat);
            }
            w.WriteInt32(4);
            w.WriteInt32(0);
            w.WriteInt64(0);
            w.WriteInt64(0);
            w.WriteAligned<float>([]);                // the flat index's (empty) vector panels
            for (int i = 0; i < depth; i++)
            {
                w.WriteInt64(0);                      // count
                w.WriteInt64(0);                      // next id
            }
        });
        return stream.ToArray();
    }

    [Fact]
    public void AChainNested20000Deep_WithAValidChecksum_IsRejected_NotAStackOverflow()
    {
        foreach (byte[] file in new[] { PreTransformChain(Depth), RefineChain(Depth) })
        {
            FluentActions.Invoking(() => IndexFile.Load(new MemoryStream(file))).Should().Throw<InvalidDataException>()
                .WithMessage($"*would be nesting level 17; at most {IndexFileFormat.MaxNestingDepth} levels are allowed*");
        }
    }

    [Fact]
    public void AChainWithinTheBound_Loads()
    {
        // MaxNestingDepth levels: that many − 1 pre-transforms around a flat index.
        var index = (TransformedIndex)IndexFile.Load(new MemoryStream(PreTransformChain(IndexFileFormat.MaxNestingDepth - 1)));
        index.Count.Should().Be(0);
        IVectorIndex inner = index;
        for (int level = 1; level < IndexFileFormat.MaxNestingDepth; level++) inner = ((TransformedIndex)inner).Inner;
        inner.Should().BeOfType<FlatIndex>();
        FluentActions.Invoking(() => IndexFile.Load(new MemoryStream(PreTransformChain(IndexFileFormat.MaxNestingDepth))))
            .Should().Throw<InvalidDataException>();
    }

    [Fact]
    public void MoreNestedPartsThanTheBound_AreRejected()
    {
        using var stream = new MemoryStream();
        var writer = new IndexPayloadWriter(stream);
        for (int i = 0; i < IndexFileFormat.MaxObjects; i++) writer.WriteNested("Part", w => w.WriteInt32(i));
        var reader = new IndexPayloadReader(new MemoryStream(stream.ToArray()), stream.Length, "Test");
        for (int i = 0; i < IndexFileFormat.MaxObjects - 1; i++)
            reader.ReadNested("part", (kind, r) => r.ReadInt32()).Should().Be(i);
        FluentActions.Invoking(() => reader.ReadNested("part", (kind, r) => r.ReadInt32())).Should().Throw<InvalidDataException>()
            .WithMessage($"*more than {IndexFileFormat.MaxObjects} nested parts*");
    }

    [Fact]
    public void IndexesCannotBeBuiltDeeperThanAFileMayHold()
    {
        IVectorIndex index = new FlatIndex(4);
        for (int level = 1; level < IndexFileFormat.MaxNestingDepth; level++) index = new TransformedIndex([], index);
        FluentActions.Invoking(() => new TransformedIndex([], index)).Should().Throw<ArgumentException>().WithMessage("*exceed the 16 levels*");
        FluentActions.Invoking(() => new RefineFlatIndex(index)).Should().Throw<ArgumentException>().WithMessage("*exceed the 16 levels*");
        // The deepest allowed index still saves and loads.
        using var stream = new MemoryStream();
        index.Save(stream);
        stream.Position = 0;
        IndexFile.Load(stream).Should().BeOfType<TransformedIndex>();
    }

    [Fact]
    public void Loading_HonoursTheCancellationToken()
    {
        var index = new FlatIndex(16);
        index.Add(TestData.Gaussian(5000, 16, 1));
        using var stream = new MemoryStream();
        index.Save(stream);
        stream.Position = 0;
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        FluentActions.Invoking(() => IndexFile.LoadIndex(stream, cancelled.Token)).Should().Throw<OperationCanceledException>();
    }
}
