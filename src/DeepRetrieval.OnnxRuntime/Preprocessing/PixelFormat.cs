namespace DeepRetrieval.OnnxRuntime.Preprocessing;

/// <summary>The layout of interleaved 8-bit pixels handed to <see cref="InputNormalization.Normalize(ReadOnlySpan{byte}, int, int, PixelFormat, Span{float}, int)"/>.</summary>
public enum PixelFormat
{
    /// <summary>Three bytes per pixel: red, green, blue.</summary>
    Rgb24,

    /// <summary>Three bytes per pixel: blue, green, red (OpenCV's default).</summary>
    Bgr24,

    /// <summary>Four bytes per pixel: red, green, blue, alpha; alpha is ignored.</summary>
    Rgba32,

    /// <summary>Four bytes per pixel: blue, green, red, alpha (SkiaSharp's and GDI's native order); alpha is ignored.</summary>
    Bgra32,

    /// <summary>One byte per pixel: grey. Feeds a one-channel model, or is repeated into the three planes of a colour model.</summary>
    Gray8,
}
