namespace DeepRetrieval.Imaging;

/// <summary>The container format an image file was recognised as, from its first bytes (not its extension).</summary>
public enum ImageFileFormat
{
    /// <summary>A format the decoder reads but this enumeration does not name.</summary>
    Other = 0,

    /// <summary>JPEG (JFIF/EXIF).</summary>
    Jpeg,

    /// <summary>PNG.</summary>
    Png,

    /// <summary>WebP (lossy or lossless).</summary>
    Webp,

    /// <summary>Windows bitmap.</summary>
    Bmp,

    /// <summary>GIF (the first frame is decoded).</summary>
    Gif,

    /// <summary>Windows icon (the largest image is decoded).</summary>
    Ico,

    /// <summary>Wireless bitmap.</summary>
    Wbmp,
}
