using System.Buffers;

namespace DeepRetrieval.Imaging;

/// <summary>Arrays rented from the shared pool for one decode, all returned on dispose.</summary>
internal sealed class BufferRentals : IDisposable
{
    private readonly List<byte[]> _rented = new(2);

    public byte[] Rent(int length)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(length);
        _rented.Add(buffer);
        return buffer;
    }

    public void Dispose()
    {
        foreach (byte[] buffer in _rented)
            ArrayPool<byte>.Shared.Return(buffer);
        _rented.Clear();
    }
}
