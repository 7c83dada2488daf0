namespace DeepRetrieval.Orleans.Storage;

/// <summary>A read-only, seekable stream over chunks read back from storage, as if they were one array.</summary>
internal sealed class ChunkReadStream : Stream
{
    private readonly IReadOnlyList<byte[]> _chunks;
    private readonly long[] _starts;
    private readonly long _length;
    private long _position;

    public ChunkReadStream(IReadOnlyList<byte[]> chunks)
    {
        _chunks = chunks;
        _starts = new long[chunks.Count + 1];
        for (int i = 0; i < chunks.Count; i++) _starts[i + 1] = _starts[i] + chunks[i].Length;
        _length = _starts[^1];
    }

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _position = value;
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int total = 0;
        while (!buffer.IsEmpty && _position < _length)
        {
            int chunk = Array.BinarySearch(_starts, _position);
            if (chunk < 0) chunk = ~chunk - 1;
            while (_chunks[chunk].Length == 0 || _position >= _starts[chunk + 1]) chunk++;
            int within = (int)(_position - _starts[chunk]);
            int take = Math.Min(buffer.Length, _chunks[chunk].Length - within);
            _chunks[chunk].AsSpan(within, take).CopyTo(buffer);
            buffer = buffer[take..];
            _position += take;
            total += take;
        }
        return total;
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        long target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => _length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        Position = target;
        return target;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
