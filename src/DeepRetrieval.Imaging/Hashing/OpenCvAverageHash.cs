namespace DeepRetrieval.Imaging.Hashing;

/// <summary>
/// OpenCV's <c>cv::img_hash::AverageHash</c> (opencv_contrib 4.6): bilinear <c>INTER_LINEAR_EXACT</c> resize of the
/// colour image to 8 × 8, OpenCV's grey conversion, a bit per pixel set when it is above the mean rounded to an
/// integer (half to even), packed least significant bit first as OpenCV's 8-byte output. Bit for bit equal to
/// <c>cv2.img_hash.averageHash</c> on identically decoded pixels. It differs from <see cref="AverageHash"/> (imagehash)
/// in the resize, the grey weights and the rounded mean.
/// </summary>
public sealed class OpenCvAverageHash : IPerceptualHasher
{
    /// <inheritdoc/>
    public string Name => "opencv-ahash";

    /// <inheritdoc/>
    public int BitCount => 64;

    /// <inheritdoc/>
    public PerceptualHash Compute(PixelImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        byte[] grey = OpenCvInput.ResizedGrey(image, 8);
        int sum = 0;
        foreach (byte p in grey)
            sum += p;
        int mean = (int)Math.Round(sum / 64.0, MidpointRounding.ToEven);
        Span<bool> bits = stackalloc bool[64];
        for (int i = 0; i < 64; i++)
            bits[i] = grey[i] > mean;
        return PerceptualHash.FromBitsLittleEndian(bits);
    }
}
