namespace DeepRetrieval.Imaging.Processing;

/// <summary>
/// Turns an image into a network's float input: planar channels (C × H × W, "CHW") normalised by a
/// <see cref="ChannelNormalization"/>. Batches are N such blocks one after another (NCHW).
/// </summary>
public static class TensorConversion
{
    /// <summary>Returns the image as C × H × W floats.</summary>
    /// <param name="image">The image (any format; converted to the normalisation's channel order first).</param>
    /// <param name="normalization">Channel order, scale, mean and std.</param>
    public static float[] ToChw(this PixelImage image, ChannelNormalization normalization)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(normalization);
        var result = new float[normalization.Planes * image.Width * image.Height];
        image.ToChw(result, normalization);
        return result;
    }

    /// <summary>Writes the image as C × H × W floats into <paramref name="destination"/> (one image of an NCHW batch).</summary>
    /// <param name="image">The image (any format; converted to the normalisation's channel order first).</param>
    /// <param name="destination">At least planes × height × width floats; only that prefix is written.</param>
    /// <param name="normalization">Channel order, scale, mean and std.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public static void ToChw(this PixelImage image, Span<float> destination, ChannelNormalization normalization)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(normalization);
        int planes = normalization.Planes, plane = image.Width * image.Height;
        if (destination.Length < planes * plane)
            throw new ArgumentException(
                $"A {image.Width} × {image.Height} image with {planes} plane(s) needs {planes * plane} floats; the destination holds {destination.Length}.",
                nameof(destination));

        // Source channel feeding each plane; grey output from a colour image goes through PIL's luma first.
        PixelImage source = image;
        int[] channelOf;
        if (planes == 1)
        {
            if (image.Format != PixelFormat.Gray8)
                source = image.ConvertTo(PixelFormat.Gray8);
            channelOf = [0];
        }
        else
        {
            if (image.Format == PixelFormat.Gray8)
                channelOf = [0, 0, 0];
            else
            {
                bool bgrSource = image.Format == PixelFormat.Bgr24;
                bool bgrTarget = normalization.Order == PixelFormat.Bgr24;
                channelOf = bgrSource == bgrTarget ? [0, 1, 2] : [2, 1, 0];
            }
        }

        int channels = source.Channels;
        ReadOnlySpan<byte> pixels = source.Pixels;
        for (int p = 0; p < planes; p++)
        {
            float[] table = normalization.LookupTable(p);
            Span<float> output = destination.Slice(p * plane, plane);
            int c = channelOf[p];
            if (channels == 1)
            {
                for (int i = 0; i < plane; i++)
                    output[i] = table[pixels[i]];
            }
            else
            {
                for (int i = 0, at = c; i < plane; i++, at += channels)
                    output[i] = table[pixels[at]];
            }
        }
    }
}
