namespace DeepRetrieval.Imaging;

/// <summary>
/// The EXIF orientation tag (0x0112): how the stored pixels must be turned to be shown upright. The values are the
/// tag's own (1–8), as PIL's <c>ImageOps.exif_transpose</c> reads them.
/// </summary>
public enum ImageOrientation
{
    /// <summary>Stored upright (also used when the file has no orientation tag).</summary>
    TopLeft = 1,

    /// <summary>Mirrored left to right.</summary>
    TopRight = 2,

    /// <summary>Turned 180°.</summary>
    BottomRight = 3,

    /// <summary>Mirrored top to bottom.</summary>
    BottomLeft = 4,

    /// <summary>Mirrored along the main diagonal (transposed).</summary>
    LeftTop = 5,

    /// <summary>Turned 90° counter-clockwise when stored; shown after turning 90° clockwise.</summary>
    RightTop = 6,

    /// <summary>Mirrored along the anti-diagonal (transversed).</summary>
    RightBottom = 7,

    /// <summary>Turned 90° clockwise when stored; shown after turning 90° counter-clockwise.</summary>
    LeftBottom = 8,
}
