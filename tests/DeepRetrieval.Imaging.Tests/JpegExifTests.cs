namespace DeepRetrieval.Imaging.Tests;

public sealed class JpegExifTests
{
    // SOI, APP1 "Exif\0\0" + TIFF header + IFD0 with one entry (tag 0x0112, SHORT, count 1, value), then SOS.
    private static byte[] Jpeg(bool littleEndian, ushort orientation, ushort type = 3)
    {
        byte[] tiff = littleEndian
            ? [(byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, (byte)type, 0, 1, 0, 0, 0, (byte)orientation, 0, 0, 0, 0, 0, 0, 0]
            : [(byte)'M', (byte)'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, (byte)type, 0, 0, 0, 1, 0, (byte)orientation, 0, 0, 0, 0, 0, 0];
        byte[] payload = [.. "Exif\0\0"u8.ToArray(), .. tiff];
        int length = payload.Length + 2;
        return [0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. payload, 0xFF, 0xDA, 0, 2];
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ReadOrientation_ReadsBothByteOrders(bool littleEndian)
    {
        JpegExif.ReadOrientation(Jpeg(littleEndian, 6)).Should().Be(ImageOrientation.RightTop);
        JpegExif.ReadOrientation(Jpeg(littleEndian, 3)).Should().Be(ImageOrientation.BottomRight);
    }

    [Fact]
    public void ReadOrientation_FallsBackToTopLeft_OnMalformedData()
    {
        JpegExif.ReadOrientation(Jpeg(true, 9)).Should().Be(ImageOrientation.TopLeft, "9 is not an orientation");
        JpegExif.ReadOrientation(Jpeg(true, 6, type: 4)).Should().Be(ImageOrientation.TopLeft, "the tag must be a SHORT");
        byte[] cut = Jpeg(false, 6);
        JpegExif.ReadOrientation(cut.AsSpan(0, 20)).Should().Be(ImageOrientation.TopLeft);
        var random = new Random(9);
        for (int i = 0; i < 200; i++)
        {
            byte[] noise = Jpeg(i % 2 == 0, 6);
            noise[12 + random.Next(noise.Length - 14)] = (byte)random.Next(256);
            ImageOrientation read = JpegExif.ReadOrientation(noise);
            Enum.IsDefined(read).Should().BeTrue();
        }
    }
}
