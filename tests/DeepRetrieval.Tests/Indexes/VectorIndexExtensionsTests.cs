using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Hnsw;
using DeepRetrieval.Indexes.Ivf;

namespace DeepRetrieval.Tests.Indexes;

/// <summary>The calls a Faiss or USearch user expects, on <see cref="IVectorIndex"/> variables, and asynchronous saving and loading.</summary>
public class VectorIndexExtensionsTests
{
    private const int D = 4;

    private static float[][] Rows(float[] flat) => flat.Chunk(D).ToArray();

    [Fact]
    public void JaggedRows_MemoryAndOneVector_GiveWhatTheSpanContractGives()
    {
        float[] data = TestData.Gaussian(50, D, 1);
        float[] queries = TestData.Gaussian(3, D, 2);
        IVectorIndex index = IndexFactory.Create(D, "Flat");
        index.Add(Rows(data[..(20 * D)])).Should().Be(0);
        index.Add(Rows(data[(20 * D)..(40 * D)]), Enumerable.Range(100, 20).Select(i => (long)i).ToArray());
        index.Add(new ReadOnlyMemory<float>(data, 40 * D, 5 * D)).Should().Be(120);
        index.Add(new ReadOnlyMemory<float>(data, 45 * D, 4 * D), new ReadOnlyMemory<long>([500L, 501L, 502L, 503L]));
        index.Add(data.AsSpan(49 * D, D), 999L);
        index.Count.Should().Be(50);
        index.Contains(999).Should().BeTrue();

        var reference = new FlatIndex(D);
        reference.Add(data, [.. Enumerable.Range(0, 20).Select(i => (long)i), .. Enumerable.Range(100, 20).Select(i => (long)i),
            .. Enumerable.Range(120, 5).Select(i => (long)i), 500L, 501L, 502L, 503L, 999L]);
        SearchResult expected = reference.Search(queries, 6);
        index.Search(queries, 6).Ids.Should().Equal(expected.Ids);
        index.Search(Rows(queries), 6).Ids.Should().Equal(expected.Ids);
        index.Search(new ReadOnlyMemory<float>(queries), 6).Ids.Should().Equal(expected.Ids);
        index.Search(queries.AsSpan(0, D), 6).Ids.Should().Equal(expected.IdsOf(0).ToArray(), "one vector is a batch of one");
        index.Reconstruct(999).Should().Equal(data.AsSpan(49 * D, D).ToArray());

        IVectorIndex trained = IndexFactory.Create(D, "PCA2,Flat");
        trained.Train(Rows(data));
        trained.IsTrained.Should().BeTrue();
        IVectorIndex fromMemory = IndexFactory.Create(D, "PCA2,Flat");
        fromMemory.Train(new ReadOnlyMemory<float>(data));
        fromMemory.IsTrained.Should().BeTrue();
    }

    [Fact]
    public void TrainAndAdd_TrainsAnUntrainedIndexOnTheSameSet_ThenOnlyAdds()
    {
        float[] data = TestData.Gaussian(300, D, 7);
        long[] ids = Enumerable.Range(1000, 300).Select(i => (long)i).ToArray();
        IVectorIndex index = IndexFactory.Create(D, "IVF4,Flat");
        index.IsTrained.Should().BeFalse();
        index.TrainAndAdd(data.AsSpan(0, 200 * D), ids.AsSpan(0, 200));
        index.IsTrained.Should().BeTrue();
        index.Count.Should().Be(200);

        IVectorIndex reference = IndexFactory.Create(D, "IVF4,Flat");
        reference.Train(data.AsSpan(0, 200 * D));
        reference.Add(data.AsSpan(0, 200 * D), ids.AsSpan(0, 200));
        float[] centroids = ((IvfIndex)reference).CoarseQuantizer.Reconstruct(0);
        ((IvfIndex)index).CoarseQuantizer.Reconstruct(0).Should().Equal(centroids, "trained on the same rows");

        // Trained now: the second call only adds (retraining would move the centroids of vectors already in lists).
        index.TrainAndAdd(data.AsSpan(200 * D), ids.AsSpan(200));
        index.Count.Should().Be(300);
        ((IvfIndex)index).CoarseQuantizer.Reconstruct(0).Should().Equal(centroids);
        index.Search(data.AsSpan(250 * D, D), 1).Ids[0].Should().Be(1250);

        index.TrainAndAdd(ReadOnlySpan<float>.Empty, ReadOnlySpan<long>.Empty);
        index.Count.Should().Be(300);
        FluentActions.Invoking(() => index.TrainAndAdd(new float[2 * D], new long[] { 1 })).Should().Throw<ArgumentException>().WithMessage("*2 vectors but 1 ids*");
        FluentActions.Invoking(() => index.TrainAndAdd(new float[D + 1], new long[] { 1 })).Should().Throw<ArgumentException>().WithMessage("*4-dimensional*");
        index.Count.Should().Be(300);
    }

    [Fact]
    public void JaggedRowsAndSingleVectors_OfTheWrongSize_AreNamed()
    {
        IVectorIndex index = new FlatIndex(D);
        FluentActions.Invoking(() => index.Add([new float[D], new float[D + 1]])).Should().Throw<ArgumentException>().WithMessage("*Row 1 has 5 values*dimension 4*");
        FluentActions.Invoking(() => index.Search([new float[D], null!], 1)).Should().Throw<ArgumentException>().WithMessage("*Row 1 is null*");
        FluentActions.Invoking(() => index.Add(new float[2 * D], 3L)).Should().Throw<ArgumentException>().WithMessage("*one vector of dimension 4; got 8*");
        FluentActions.Invoking(() => index.Search(new float[D], 0)).Should().Throw<ArgumentOutOfRangeException>();
        index.Count.Should().Be(0);
    }

    [Fact]
    public void AutomaticIds_RunningOut_SayWhy_AndTheLargestIdIsReserved()
    {
        var index = new FlatIndex(D);
        index.Add(new float[] { 1, 2, 3, 4 }, long.MaxValue - 1);
        index.NextId.Should().Be(long.MaxValue);
        FluentActions.Invoking(() => index.Add(new float[D])).Should().Throw<InvalidOperationException>()
            .WithMessage("*No automatic ids are left*long.MaxValue − 1*own ids*");
        FluentActions.Invoking(() => index.Add(new float[D], long.MaxValue)).Should().Throw<ArgumentException>().WithMessage("*reserved*");
        index.Add(new float[] { 4, 3, 2, 1 }, 7L);
        index.Count.Should().Be(2);
    }

    [Fact]
    public async Task SaveAsyncToAFile_IsAtomic_AndACancelledSaveLeavesTheOldFile()
    {
        string directory = Directory.CreateTempSubdirectory("deepretrieval-async-").FullName;
        try
        {
            string path = Path.Combine(directory, "index.drix");
            var index = new FlatIndex(16);
            index.Add(TestData.Gaussian(5000, 16, 3));
            await index.SaveAsync(path);
            using (var expected = new MemoryStream())
            {
                index.Save(expected);
                (await File.ReadAllBytesAsync(path)).Should().Equal(expected.ToArray());
            }
            byte[] before = await File.ReadAllBytesAsync(path);

            index.Add(TestData.Gaussian(10, 16, 4));
            using var cancelled = new CancellationTokenSource();
            await cancelled.CancelAsync();
            await FluentActions.Awaiting(() => index.SaveAsync(path, cancelled.Token)).Should().ThrowAsync<OperationCanceledException>();
            (await File.ReadAllBytesAsync(path)).Should().Equal(before, "a cancelled save never replaces the file");
            Directory.GetFiles(directory).Should().ContainSingle("the temporary file is deleted");

            IVectorIndex loaded = await IndexFile.LoadAsync(path);
            loaded.Count.Should().Be(5000);
            (await IndexFile.LoadIndexAsync(path)).Kind.Should().Be(IndexKinds.Flat);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task SaveAsyncAndLoadAsync_UseOnlyAsynchronousIo_OnStreamsThatRefuseSynchronousIo()
    {
        var index = new HnswIndex(8, m: 8);
        index.Add(TestData.Gaussian(3000, 8, 5));
        var sink = new AsyncOnlyStream();
        await index.SaveAsync(sink);
        sink.Length.Should().BeGreaterThan(3000 * 8 * 4);

        var source = new AsyncOnlyStream(sink.ToArray());
        IVectorIndex loaded = await IndexFile.LoadAsync(source);
        loaded.Count.Should().Be(3000);
        float[] queries = TestData.Gaussian(5, 8, 6);
        loaded.Search(queries, 5).Ids.Should().Equal(index.Search(queries, 5).Ids);
    }

    [Fact]
    public async Task SaveAsync_OfAnIndexThatCannotBeSaved_ThrowsItsOwnException()
    {
        IVectorIndex untrained = IndexFactory.Create(8, "IVF4,Flat");
        using var stream = new MemoryStream();
        await FluentActions.Awaiting(() => untrained.SaveAsync(stream)).Should().ThrowAsync<InvalidOperationException>().WithMessage("*trained*");
    }

    // A stream like ASP.NET Core's request and response bodies with synchronous I/O disallowed.
    private sealed class AsyncOnlyStream(byte[]? bytes = null) : Stream
    {
        private readonly MemoryStream _inner = bytes is null ? new MemoryStream() : new MemoryStream(bytes);

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _inner.Length;
        public override long Position { get => _inner.Position; set => throw new NotSupportedException(); }

        public byte[] ToArray() => _inner.ToArray();

        public override void Flush() => throw new InvalidOperationException("Synchronous I/O is disallowed.");
        public override int Read(byte[] buffer, int offset, int count) => throw new InvalidOperationException("Synchronous reads are disallowed.");
        public override void Write(byte[] buffer, int offset, int count) => throw new InvalidOperationException("Synchronous writes are disallowed.");
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _inner.Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(_inner.Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}
