using System.IO.Hashing;
using System.Text;

namespace DeepRetrieval.Orleans.Routing;

/// <summary>
/// The 64-bit hash that places a record on a shard: XxHash64 of the key's canonical bytes (little-endian integers, a
/// <see cref="Guid"/>'s 16 bytes, a string's UTF-8). It never changes between processes, machines or releases, since the
/// placement of every stored record depends on it.
/// </summary>
public static class KeyHash
{
    /// <summary>The hash of a key.</summary>
    /// <param name="key">An <see cref="int"/>, <see cref="long"/>, <see cref="ulong"/>, <see cref="string"/> or <see cref="Guid"/>.</param>
    /// <exception cref="ArgumentException">Another type.</exception>
    public static ulong Of(object key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Span<byte> buffer = stackalloc byte[16];
        switch (key)
        {
            case int i:
                BitConverter.TryWriteBytes(buffer, i);
                return XxHash64.HashToUInt64(buffer[..4]);
            case long l:
                BitConverter.TryWriteBytes(buffer, l);
                return XxHash64.HashToUInt64(buffer[..8]);
            case ulong u:
                BitConverter.TryWriteBytes(buffer, u);
                return XxHash64.HashToUInt64(buffer[..8]);
            case Guid g:
                g.TryWriteBytes(buffer);
                return XxHash64.HashToUInt64(buffer);
            case string s:
                return XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(s));
            default:
                throw new ArgumentException($"Key {key} is a {key.GetType().Name}; keys may be int, long, ulong, string or Guid.", nameof(key));
        }
    }
}
