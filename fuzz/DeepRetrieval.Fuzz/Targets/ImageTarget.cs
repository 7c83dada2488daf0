using System.Buffers.Binary;
using DeepRetrieval.Imaging;
using SkiaSharp;

namespace DeepRetrieval.Fuzz.Targets;

/// <summary>
/// <see cref="ImageDecoder"/> on PNG, JPEG (libjpeg-turbo when installed, else Skia), WebP, BMP and GIF seeds, with PNG chunk
/// CRCs repaired. The pixel limit is lowered to 4 Mpx so that a mutated size costs milliseconds, not seconds.
/// </summary>
internal sealed class ImageTarget : FuzzTarget
{
    private static readonly ImageDecodeOptions Options = new() { MaxPixels = 1 << 22 };

    public override string Name => "image";

    public override string Description => "ImageDecoder.Decode (PNG CRCs repaired)";

    public override IReadOnlyList<(string Name, byte[] Bytes)> CreateSeeds()
    {
        using var bitmap = new SKBitmap(24, 16, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 24; x++)
                bitmap.SetPixel(x, y, new SKColor((byte)(x * 10), (byte)(y * 15), (byte)((x + y) * 5), (byte)(255 - x)));
        byte[] Encode(SKEncodedImageFormat format, int quality)
        {
            using var data = bitmap.Encode(format, quality);
            return data.ToArray();
        }
        return
        [
            ("gradient.png", Encode(SKEncodedImageFormat.Png, 100)),
            ("gradient.jpg", Encode(SKEncodedImageFormat.Jpeg, 90)),
            ("gradient.webp", Encode(SKEncodedImageFormat.Webp, 80)),
            ("gradient.bmp", Bmp(6, 4)),
            ("pixel.gif", Gif()),
        ];
    }

    public override byte[] Repair(byte[] input) => Integrity.RepairPng(input);

    public override void Run(byte[] input) => ImageDecoder.Decode(input, Options, "fuzz image");

    // A 24-bit bottom-up BMP (BITMAPINFOHEADER), the layout every BMP reader accepts.
    private static byte[] Bmp(int width, int height)
    {
        int stride = (width * 3 + 3) & ~3;
        var file = new byte[54 + stride * height];
        "BM"u8.CopyTo(file);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(2), file.Length);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(22), height);
        BinaryPrimitives.WriteInt16LittleEndian(file.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(file.AsSpan(28), 24);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(34), stride * height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int at = 54 + y * stride + x * 3;
                file[at] = (byte)(x * 40);
                file[at + 1] = (byte)(y * 60);
                file[at + 2] = 200;
            }
        return file;
    }

    // The classic 1 × 1 GIF89a: global colour table of two entries, one image descriptor, LZW data, trailer.
    private static byte[] Gif() =>
    [
        .. "GIF89a"u8, 1, 0, 1, 0, 0x80, 0, 0, 0xFF, 0x00, 0x00, 0, 0, 0, 0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B,
    ];
}
