using System.IO.Hashing;

namespace DeepRetrieval.Orleans.Storage;

/// <summary>
/// A write-only stream that collects what is written into chunks of a fixed size (the last one shorter), so that a snapshot
/// larger than one array, or than one storage record should be, is stored as a series of records.
/// </summary>
internal sealed class ChunkWriteStream : Stream
{
    private readonly int _chunkBytes;
    private readonly List<byte[]> _chunks = [];
    private readonly XxHash64 _hash = new();
    private byte[] _current;
    private int _used;
    private long _length;

    public ChunkWriteStream(int chunkBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkBytes);
        _chunkBytes = chunkBytes;
        _current = new byte[chunkBytes];
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => _length;

    public override long Position
    {
        get => _length;
        set => throw new NotSupportedException();
    }

    /// <summary>The XxHash64 of every byte written so far.</summary>
    public ulong Hash => _hash.GetCurrentHashAsUInt64();

    /// <summary>The chunks written so far, the last one trimmed; the stream cannot be written after this.</summary>
    public List<byte[]> Complete()
    {
        if (_used > 0) _chunks.Add(_current.AsSpan(0, _used).ToArray());
        _current = [];
        _used = 0;
        return _chunks;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _hash.Append(buffer);
        while (!buffer.IsEmpty)
        {
            if (_current.Length == 0) throw new ObjectDisposedException(nameof(ChunkWriteStream), "The chunks were already taken.");
            int take = Math.Min(buffer.Length, _chunkBytes - _used);
            buffer[..take].CopyTo(_current.AsSpan(_used));
            _used += take;
            _length += take;
            buffer = buffer[take..];
            if (_used == _chunkBytes)
            {
                _chunks.Add(_current);
                _current = new byte[_chunkBytes];
                _used = 0;
            }
        }
    }

    public override void WriteByte(byte value) => Write([value]);

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
