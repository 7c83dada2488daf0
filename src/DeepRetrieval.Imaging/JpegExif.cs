using System.Buffers.Binary;

namespace DeepRetrieval.Imaging;

/// <summary>
/// Reads the EXIF orientation tag of a JPEG without a decoder: the first APP1 "Exif" segment before the scan, its TIFF
/// header, IFD0, tag 0x0112. Every offset is checked against the data; anything malformed reads as
/// <see cref="ImageOrientation.TopLeft"/>, as SkiaSharp and PIL treat an unreadable tag.
/// </summary>
internal static class JpegExif
{
    public static ImageOrientation ReadOrientation(ReadOnlySpan<byte> jpeg)
    {
        int at = 2; // after SOI
        while (at + 4 <= jpeg.Length)
        {
            if (jpeg[at] != 0xFF)
                return ImageOrientation.TopLeft;
            byte marker = jpeg[at + 1];
            if (marker == 0xFF)
            {
                at++; // fill byte
                continue;
            }
            if (marker is 0xDA or 0xD9) // start of scan, end of image: no EXIF before the pixels
                return ImageOrientation.TopLeft;
            int length = BinaryPrimitives.ReadUInt16BigEndian(jpeg.Slice(at + 2, 2));
            if (length < 2 || at + 2 + length > jpeg.Length)
                return ImageOrientation.TopLeft;
            ReadOnlySpan<byte> segment = jpeg.Slice(at + 4, length - 2);
            if (marker == 0xE1 && segment.Length >= 6 && segment[..6].SequenceEqual("Exif\0\0"u8))
                return FromTiff(segment[6..]);
            at += 2 + length;
        }
        return ImageOrientation.TopLeft;
    }

    private static ImageOrientation FromTiff(ReadOnlySpan<byte> tiff)
    {
        if (tiff.Length < 8)
            return ImageOrientation.TopLeft;
        bool little = tiff[0] == (byte)'I' && tiff[1] == (byte)'I';
        if (!little && !(tiff[0] == (byte)'M' && tiff[1] == (byte)'M'))
            return ImageOrientation.TopLeft;
        uint ifd = Read32(tiff, 4, little);
        if (ifd > (uint)(tiff.Length - 2))
            return ImageOrientation.TopLeft;
        int entries = Read16(tiff, (int)ifd, little);
        for (int i = 0; i < entries; i++)
        {
            int entry = (int)ifd + 2 + 12 * i;
            if (entry + 12 > tiff.Length)
                return ImageOrientation.TopLeft;
            if (Read16(tiff, entry, little) != 0x0112)
                continue;
            // SHORT (type 3), one value, stored in the first two bytes of the value field.
            if (Read16(tiff, entry + 2, little) != 3 || Read32(tiff, entry + 4, little) != 1)
                return ImageOrientation.TopLeft;
            int value = Read16(tiff, entry + 8, little);
            return value is >= 1 and <= 8 ? (ImageOrientation)value : ImageOrientation.TopLeft;
        }
        return ImageOrientation.TopLeft;
    }

    private static uint Read32(ReadOnlySpan<byte> tiff, int offset, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(tiff.Slice(offset, 4)) : BinaryPrimitives.ReadUInt32BigEndian(tiff.Slice(offset, 4));

    private static ushort Read16(ReadOnlySpan<byte> tiff, int offset, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(tiff.Slice(offset, 2)) : BinaryPrimitives.ReadUInt16BigEndian(tiff.Slice(offset, 2));
}
