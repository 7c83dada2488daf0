using System.Buffers.Binary;
using System.Globalization;
using DeepRetrieval.Distances;

namespace DeepRetrieval.Imaging.Hashing;

/// <summary>
/// A perceptual hash: <see cref="BitCount"/> bits packed into ⌈bits / 8⌉ bytes, compared by Hamming distance. The
/// packing follows the reference each hasher reproduces (see the hasher), so <see cref="ToString"/> prints what the
/// reference prints; Hamming distances do not depend on it, and <see cref="Bytes"/> can go straight into a binary
/// (Hamming) index as one code per image.
/// </summary>
public sealed class PerceptualHash : IEquatable<PerceptualHash>
{
    private readonly byte[] _bytes;

    /// <summary>Creates a hash from packed bytes (copied).</summary>
    /// <param name="bytes">⌈<paramref name="bitCount"/> / 8⌉ bytes.</param>
    /// <param name="bitCount">Number of meaningful bits, at least 1.</param>
    /// <exception cref="ArgumentException">The byte count does not match the bit count.</exception>
    public PerceptualHash(ReadOnlySpan<byte> bytes, int bitCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bitCount, 1);
        if (bytes.Length != (bitCount + 7) / 8)
            throw new ArgumentException($"A {bitCount}-bit hash packs into {(bitCount + 7) / 8} bytes; got {bytes.Length}.", nameof(bytes));
        _bytes = bytes.ToArray();
        BitCount = bitCount;
    }

    private PerceptualHash(byte[] bytes, int bitCount, bool owned)
    {
        _ = owned;
        _bytes = bytes;
        BitCount = bitCount;
    }

    /// <summary>Number of bits.</summary>
    public int BitCount { get; }

    /// <summary>The packed bits.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>A copy of the packed bits.</summary>
    public byte[] ToArray() => (byte[])_bytes.Clone();

    /// <summary>The bytes read as one big-endian integer: for the <c>imagehash</c>-compatible hashers this is
    /// <c>int(str(hash), 16)</c> in Python.</summary>
    /// <exception cref="InvalidOperationException">The hash has more than 64 bits.</exception>
    public ulong ToUInt64()
    {
        if (_bytes.Length > 8)
            throw new InvalidOperationException($"A {BitCount}-bit hash does not fit in 64 bits.");
        Span<byte> padded = stackalloc byte[8];
        padded.Clear();
        _bytes.CopyTo(padded[(8 - _bytes.Length)..]);
        return BinaryPrimitives.ReadUInt64BigEndian(padded);
    }

    /// <summary>Creates a hash of up to 64 bits from a big-endian integer (the inverse of <see cref="ToUInt64"/>).</summary>
    /// <param name="value">The bits, right-aligned.</param>
    /// <param name="bitCount">Number of bits, 1 to 64.</param>
    public static PerceptualHash FromUInt64(ulong value, int bitCount = 64)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bitCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bitCount, 64);
        Span<byte> all = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(all, value);
        return new PerceptualHash(all[(8 - (bitCount + 7) / 8)..], bitCount);
    }

    /// <summary>Parses the hexadecimal form <see cref="ToString"/> writes (two digits per byte; an odd leading digit
    /// as <c>imagehash</c> prints it for bit counts that are not a multiple of 8 is accepted too).</summary>
    /// <param name="hex">Hexadecimal digits.</param>
    /// <param name="bitCount">Number of bits.</param>
    /// <exception cref="FormatException">The text is not hexadecimal or has the wrong length.</exception>
    public static PerceptualHash Parse(string hex, int bitCount)
    {
        ArgumentNullException.ThrowIfNull(hex);
        ArgumentOutOfRangeException.ThrowIfLessThan(bitCount, 1);
        int bytes = (bitCount + 7) / 8;
        string text = hex.Length % 2 == 1 ? "0" + hex : hex;
        if (text.Length != 2 * bytes)
            throw new FormatException($"A {bitCount}-bit hash has {2 * bytes} hexadecimal digits; got \"{hex}\".");
        var result = new byte[bytes];
        for (int i = 0; i < bytes; i++)
            if (!byte.TryParse(text.AsSpan(2 * i, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out result[i]))
                throw new FormatException($"\"{hex}\" is not hexadecimal.");
        return new PerceptualHash(result, bitCount, owned: true);
    }

    /// <summary>Number of differing bits.</summary>
    /// <param name="other">A hash of the same bit count.</param>
    /// <exception cref="ArgumentException">The bit counts differ.</exception>
    public int DistanceTo(PerceptualHash other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.BitCount != BitCount)
            throw new ArgumentException($"Cannot compare a {BitCount}-bit hash with a {other.BitCount}-bit one.", nameof(other));
        return Distance.Hamming(_bytes, other._bytes);
    }

    /// <summary>Lowercase hexadecimal, two digits per byte.</summary>
    public override string ToString() => Convert.ToHexStringLower(_bytes);

    /// <inheritdoc/>
    public bool Equals(PerceptualHash? other) => other is not null && other.BitCount == BitCount && other._bytes.AsSpan().SequenceEqual(_bytes);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as PerceptualHash);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(_bytes);
        hash.Add(BitCount);
        return hash.ToHashCode();
    }

    // imagehash's packing: bits in row-major order form one big-endian binary number, right-aligned in the bytes.
    internal static PerceptualHash FromBitsBigEndian(ReadOnlySpan<bool> bits)
    {
        int bytes = (bits.Length + 7) / 8, pad = bytes * 8 - bits.Length;
        var packed = new byte[bytes];
        for (int i = 0; i < bits.Length; i++)
            if (bits[i])
            {
                int at = i + pad;
                packed[at >> 3] |= (byte)(0x80 >> (at & 7));
            }
        return new PerceptualHash(packed, bits.Length, owned: true);
    }

    // OpenCV img_hash's packing: bit i is bit (i % 8), least significant first, of byte i / 8.
    internal static PerceptualHash FromBitsLittleEndian(ReadOnlySpan<bool> bits)
    {
        var packed = new byte[(bits.Length + 7) / 8];
        for (int i = 0; i < bits.Length; i++)
            if (bits[i])
                packed[i >> 3] |= (byte)(1 << (i & 7));
        return new PerceptualHash(packed, bits.Length, owned: true);
    }
}
