using SkiaSharp;

namespace DeepRetrieval.Torch.Tests.Data;

/// <summary>JPEG files carrying an EXIF orientation tag, built by hand (encoders rarely write one).</summary>
internal static class ExifJpeg
{
    /// <summary>A width × height gradient JPEG whose EXIF orientation is 6 (stored rotated: turn 90° clockwise to view).</summary>
    public static byte[] Rotated90(int width, int height)
    {
        byte[] jpeg = ImageFolderFixture.Encode(ImageFolderFixture.Gradient(width, height), SKEncodedImageFormat.Jpeg);
        // APP1 "Exif\0\0" with a little-endian TIFF header and IFD0 holding one entry: tag 0x0112 (orientation), SHORT, 1, value 6.
        byte[] tiff = [(byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0];
        byte[] payload = [.. "Exif\0\0"u8.ToArray(), .. tiff];
        int length = payload.Length + 2;
        return [.. jpeg[..2], 0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. payload, .. jpeg[2..]];
    }
}
