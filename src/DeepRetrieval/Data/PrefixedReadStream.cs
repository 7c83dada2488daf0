namespace DeepRetrieval.Data;

/// <summary>
/// A read-only, forward-only stream that yields some already-consumed bytes and then the rest of an inner stream.
/// It lets format sniffing peek at a non-seekable stream. Disposing it leaves the inner stream open.
/// </summary>
internal sealed class PrefixedReadStream(byte[] prefix, Stream inner) : Stream
{
    private int _prefixOffset;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
            return 0;
        if (_prefixOffset < prefix.Length)
        {
            int n = Math.Min(buffer.Length, prefix.Length - _prefixOffset);
            prefix.AsSpan(_prefixOffset, n).CopyTo(buffer);
            _prefixOffset += n;
            return n;
        }
        return inner.Read(buffer);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
            return 0;
        if (_prefixOffset < prefix.Length)
            return Read(buffer.Span);
        return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
