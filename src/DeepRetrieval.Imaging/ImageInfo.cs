namespace DeepRetrieval.Imaging;

/// <summary>What an image file's header says, read without decoding the pixels (<see cref="ImageDecoder.Identify(string)"/>).</summary>
/// <param name="Format">The recognised container format.</param>
/// <param name="StoredSize">Width and height of the pixels as stored.</param>
/// <param name="Orientation">The EXIF orientation (<see cref="ImageOrientation.TopLeft"/> when absent).</param>
public sealed record ImageInfo(ImageFileFormat Format, ImageSize StoredSize, ImageOrientation Orientation)
{
    /// <summary>Width and height after applying <see cref="Orientation"/> (swapped for the four transposing values).</summary>
    public ImageSize OrientedSize => Orientation >= ImageOrientation.LeftTop
        ? new ImageSize(StoredSize.Height, StoredSize.Width)
        : StoredSize;
}
