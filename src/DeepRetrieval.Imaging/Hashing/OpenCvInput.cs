using DeepRetrieval.Imaging.Processing;

namespace DeepRetrieval.Imaging.Hashing;

/// <summary>The first steps of OpenCV's img_hash: <c>resize(INTER_LINEAR_EXACT)</c> of the colour image, then <c>cvtColor(BGR2GRAY)</c>.</summary>
internal static class OpenCvInput
{
    public static byte[] ResizedGrey(PixelImage image, int size)
    {
        PixelImage resized = image.Resize(size, size, ResizeFilter.LinearExact);
        int channels = resized.Channels;
        ReadOnlySpan<byte> p = resized.Pixels;
        var grey = new byte[size * size];
        for (int i = 0; i < grey.Length; i++)
        {
            if (channels == 1)
            {
                grey[i] = p[i];
                continue;
            }
            int at = i * channels;
            (int r, int g, int b) = resized.Format == PixelFormat.Bgr24 ? (p[at + 2], p[at + 1], p[at]) : (p[at], p[at + 1], p[at + 2]);
            // OpenCV's 8-bit RGB → grey: 14-bit fixed point, R 4899, G 9617, B 1868, rounded.
            grey[i] = (byte)((r * 4899 + g * 9617 + b * 1868 + (1 << 13)) >> 14);
        }
        return grey;
    }
}
