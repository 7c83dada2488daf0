namespace DeepRetrieval.Imaging.Processing;

/// <summary>
/// Resampling filters. The first five are PIL's (<c>Image.Resampling</c>) and reproduce Pillow's <c>Image.resize</c>
/// pixel for pixel: separable convolution, horizontal pass first, with the filter widened by the scale factor when
/// shrinking (antialiasing) and Pillow's 22-bit fixed-point coefficients and rounding.
/// <see cref="LinearExact"/> is the plain (not antialiased) bilinear interpolation of OpenCV and PyTorch.
/// </summary>
public enum ResizeFilter
{
    /// <summary>PIL's <c>BOX</c>: every source pixel inside the output pixel's footprint weighs equally (area averaging).</summary>
    Box,

    /// <summary>PIL's <c>BILINEAR</c>: the triangle filter, antialiased when shrinking (torchvision's default with PIL images).</summary>
    Bilinear,

    /// <summary>PIL's <c>HAMMING</c>: a Hamming-windowed sinc of support 1.</summary>
    Hamming,

    /// <summary>PIL's <c>BICUBIC</c> (Keys, a = −0.5), antialiased when shrinking; PIL's default for <c>resize</c>.</summary>
    Bicubic,

    /// <summary>PIL's <c>LANCZOS</c> (Lanczos-3), antialiased when shrinking; what <c>imagehash</c> uses.</summary>
    Lanczos,

    /// <summary>
    /// Bilinear interpolation between the two nearest source pixels, without antialiasing, with half-pixel centres:
    /// OpenCV's <c>INTER_LINEAR_EXACT</c> bit for bit (8-bit fixed-point weights, round half to even), within one grey
    /// level of OpenCV's <c>INTER_LINEAR</c> and of PyTorch's <c>interpolate(mode="bilinear", align_corners=False,
    /// antialias=False)</c> rounded to 8 bits. Shrinking by more than 2× skips source pixels (aliasing), as those do.
    /// </summary>
    LinearExact,
}
