using System.Numerics;

namespace DeepRetrieval.Data;

/// <summary>
/// A batch of equally sized 8-bit grey-scale images as stored in an IDX file (MNIST, Fashion-MNIST):
/// <see cref="Count"/> images of <see cref="Rows"/> × <see cref="Columns"/> pixels, row-major, image after image.
/// </summary>
public sealed class IdxImages
{
    /// <summary>Wraps existing pixels (not copied).</summary>
    /// <param name="count">Number of images (may be zero).</param>
    /// <param name="rows">Height of each image in pixels (positive).</param>
    /// <param name="columns">Width of each image in pixels (positive).</param>
    /// <param name="pixels">count × rows × columns bytes, image after image, each row-major.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, or a side is zero.</exception>
    /// <exception cref="ArgumentException"><paramref name="pixels"/> has the wrong length.</exception>
    public IdxImages(int count, int rows, int columns, byte[] pixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        ArgumentNullException.ThrowIfNull(pixels);
        long expected = (long)count * rows * columns;
        if (pixels.LongLength != expected)
            throw new ArgumentException(
                $"pixels must hold count × rows × columns = {count} × {rows} × {columns} = {expected} bytes; got {pixels.LongLength}.",
                nameof(pixels));
        Count = count;
        Rows = rows;
        Columns = columns;
        Pixels = pixels;
    }

    /// <summary>Number of images.</summary>
    public int Count { get; }

    /// <summary>Height of each image in pixels.</summary>
    public int Rows { get; }

    /// <summary>Width of each image in pixels.</summary>
    public int Columns { get; }

    /// <summary>Pixels per image, <see cref="Rows"/> × <see cref="Columns"/>.</summary>
    public int PixelsPerImage => Rows * Columns;

    /// <summary>All pixels, image after image, each row-major; 0 is background in (Fashion-)MNIST.</summary>
    public byte[] Pixels { get; }

    /// <summary>The pixels of one image, row-major.</summary>
    /// <param name="index">Image index, 0 ≤ index &lt; <see cref="Count"/>.</param>
    public ReadOnlySpan<byte> GetImage(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return Pixels.AsSpan(index * PixelsPerImage, PixelsPerImage);
    }

    /// <summary>A copy of the images <paramref name="start"/> .. <paramref name="start"/> + <paramref name="count"/> − 1.</summary>
    /// <param name="start">First image to copy.</param>
    /// <param name="count">Number of images to copy.</param>
    public IdxImages Slice(int start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if ((long)start + count > Count)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"start + count must not exceed Count ({Count}).");
        return new IdxImages(count, Rows, Columns, Pixels.AsSpan(start * PixelsPerImage, count * PixelsPerImage).ToArray());
    }

    /// <summary>
    /// Converts every pixel to <c>pixel × scale + offset</c>, row-major, image after image, ready to be used as
    /// <see cref="Count"/> vectors of dimension <see cref="PixelsPerImage"/>. The default maps 0..255 to 0..1.
    /// </summary>
    /// <param name="scale">Multiplier applied to each byte value.</param>
    /// <param name="offset">Added after scaling (e.g. −mean/std with scale 1/(255·std) to standardise).</param>
    public float[] ToFloat(float scale = 1f / 255f, float offset = 0f)
    {
        var result = new float[Pixels.Length];
        ToFloat(result, scale, offset);
        return result;
    }

    /// <summary>Like <see cref="ToFloat(float, float)"/>, writing into an existing buffer.</summary>
    /// <param name="destination">Receives <see cref="Pixels"/>.Length values.</param>
    /// <param name="scale">Multiplier applied to each byte value.</param>
    /// <param name="offset">Added after scaling.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> has the wrong length.</exception>
    public void ToFloat(Span<float> destination, float scale = 1f / 255f, float offset = 0f)
    {
        if (destination.Length != Pixels.Length)
            throw new ArgumentException($"destination must hold {Pixels.Length} values; got {destination.Length}.", nameof(destination));
        ReadOnlySpan<byte> source = Pixels;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            // Bytes widen to four vectors of floats per step; converting 47 M pixels (all of Fashion-MNIST) is hot
            // enough in the samples to be worth it.
            var scales = new Vector<float>(scale);
            var offsets = new Vector<float>(offset);
            int step = Vector<byte>.Count;
            int floatsPerVector = Vector<float>.Count;
            for (; i <= source.Length - step; i += step)
            {
                Vector.Widen(new Vector<byte>(source[i..]), out Vector<ushort> low, out Vector<ushort> high);
                Vector.Widen(low, out Vector<uint> a, out Vector<uint> b);
                Vector.Widen(high, out Vector<uint> c, out Vector<uint> d);
                Span<float> target = destination[i..];
                (Vector.ConvertToSingle(a) * scales + offsets).CopyTo(target);
                (Vector.ConvertToSingle(b) * scales + offsets).CopyTo(target[floatsPerVector..]);
                (Vector.ConvertToSingle(c) * scales + offsets).CopyTo(target[(2 * floatsPerVector)..]);
                (Vector.ConvertToSingle(d) * scales + offsets).CopyTo(target[(3 * floatsPerVector)..]);
            }
        }
        for (; i < source.Length; i++)
            destination[i] = source[i] * scale + offset;
    }
}
