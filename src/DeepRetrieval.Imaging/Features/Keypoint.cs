namespace DeepRetrieval.Imaging.Features;

/// <summary>
/// A local feature's frame, with OpenCV's <c>cv::KeyPoint</c> fields and conventions: position in pixels of the input
/// image (the centre of the top-left pixel is (0, 0)), diameter <see cref="Size"/>, orientation <see cref="Angle"/> in
/// degrees, detector <see cref="Response"/>, and the pyramid level packed into <see cref="Octave"/> exactly as OpenCV's
/// SIFT packs it, so keypoints round-trip between the two.
/// </summary>
/// <param name="X">Column of the centre, in pixels.</param>
/// <param name="Y">Row of the centre, in pixels.</param>
/// <param name="Size">Diameter of the meaningful neighbourhood: for SIFT twice the absolute scale σ of the keypoint.</param>
/// <param name="Angle">Orientation in degrees in [0, 360), OpenCV's convention (image coordinates, y down); 0 for upright features.</param>
/// <param name="Response">Detector strength; for SIFT the interpolated |DoG| contrast (intensities scaled to 0 … 1).</param>
/// <param name="Octave">
/// Packed pyramid level as OpenCV's SIFT writes it: bits 0–7 the octave as a signed byte (−1 is the up-sampled first
/// octave), bits 8–15 the layer within the octave, bits 16–23 the sub-layer offset ξ as round((ξ + 0.5) · 255).
/// </param>
public readonly record struct Keypoint(float X, float Y, float Size, float Angle, float Response, int Octave)
{
    /// <summary>The octave unpacked from <see cref="Octave"/>: −1 for the up-sampled first octave, 0 for the input resolution, and so on.</summary>
    public int OctaveIndex => (sbyte)(Octave & 255);

    /// <summary>The layer within the octave unpacked from <see cref="Octave"/> (1 … intervals for detected keypoints).</summary>
    public int Layer => (Octave >> 8) & 255;

    /// <summary>The absolute scale σ in input pixels: <see cref="Size"/> / 2.</summary>
    public float Scale => Size * 0.5f;

    /// <summary>Packs an octave, layer and sub-layer code as OpenCV's SIFT does.</summary>
    /// <param name="octave">Octave, −128 … 127.</param>
    /// <param name="layer">Layer within the octave, 0 … 255.</param>
    /// <param name="subLayerCode">round((ξ + 0.5) · 255), 0 … 255.</param>
    public static int PackOctave(int octave, int layer, int subLayerCode = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(octave, -128);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(octave, 127);
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(layer, 255);
        ArgumentOutOfRangeException.ThrowIfNegative(subLayerCode);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(subLayerCode, 255);
        return (octave & 255) | (layer << 8) | (subLayerCode << 16);
    }
}
