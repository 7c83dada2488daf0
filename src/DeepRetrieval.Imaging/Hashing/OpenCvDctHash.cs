namespace DeepRetrieval.Imaging.Hashing;

/// <summary>
/// OpenCV's <c>cv::img_hash::PHash</c> (opencv_contrib 4.6): <c>INTER_LINEAR_EXACT</c> resize of the colour image to
/// 32 × 32, OpenCV's grey conversion, the orthonormal 2-D DCT (<c>cv::dct</c>), the top-left 8 × 8 block with its DC
/// term set to 0, a bit per coefficient set when it is above the block's mean, packed least significant bit first as
/// OpenCV's 8-byte output. Coefficients are rounded to float32 as OpenCV keeps them; OpenCV computes the DCT itself in
/// float32, so a coefficient within about 1e-5 of the mean could flip (none did on the test photos). It differs from
/// <see cref="DctHash"/> (imagehash) in the resize, grey weights, DCT scaling and threshold.
/// </summary>
public sealed class OpenCvDctHash : IPerceptualHasher
{
    /// <inheritdoc/>
    public string Name => "opencv-phash";

    /// <inheritdoc/>
    public int BitCount => 64;

    /// <inheritdoc/>
    public PerceptualHash Compute(PixelImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        byte[] grey = OpenCvInput.ResizedGrey(image, 32);
        double[] low = DctHash.Dct2Low(grey, 32, 8, orthonormal: true);
        Span<float> block = stackalloc float[64];
        double sum = 0;
        for (int i = 0; i < 64; i++)
        {
            block[i] = i == 0 ? 0f : (float)low[i];
            sum += block[i];
        }
        float mean = (float)(sum / 64);
        Span<bool> bits = stackalloc bool[64];
        for (int i = 0; i < 64; i++)
            bits[i] = block[i] > mean;
        return PerceptualHash.FromBitsLittleEndian(bits);
    }
}
