using DeepRetrieval.Imaging.Processing;
using System.Buffers.Binary;
using System.IO.Hashing;

namespace DeepRetrieval.Imaging.Tests;

public sealed class ImageDecoderTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("imaging-decoder-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public static IEnumerable<object[]> LosslessPhotos => Reference.PhotoNames(p => !p.IsJpeg);

    public static IEnumerable<object[]> JpegPhotos => Reference.PhotoNames(p => p.IsJpeg);

    [Theory]
    [MemberData(nameof(LosslessPhotos))]
    public void Decode_EqualsPilPixels_OnLosslessPhotos(string name)
    {
        // PNG (RGB, grey, RGBA) and WebP lossless-decoded pixels: PIL's convert("RGB") bytes, checksum of the whole image.
        Photo photo = Reference.Photo(name);
        PixelImage image = Photos.Get(name);
        image.Width.Should().Be(photo.Width);
        image.Height.Should().Be(photo.Height);
        Reference.Sha256(image).Should().Be(photo.RgbSha256);
    }

    [Theory]
    [MemberData(nameof(JpegPhotos))]
    public void Decode_MatchesPilWithinOneLevel_OnJpegPhotos(string name)
    {
        // SkiaSharp bundles its own libjpeg-turbo; PIL uses Debian's. Sampled pixels agree within one grey level.
        Photo photo = Reference.Photo(name);
        PixelImage image = Photos.Get(name);
        foreach (int[] s in photo.RgbSamples)
            ((int)image.Pixels[(s[1] * image.Width + s[0]) * 3 + s[2]]).Should().BeCloseTo(s[3], 1);
    }

    [Theory]
    [MemberData(nameof(JpegPhotos))]
    public void Decode_EqualsPilExactly_OnJpegPhotos(string name)
    {
        // Both are libjpeg-turbo 2.1.5 with the accurate integer IDCT and fancy upsampling: identical on this machine.
        Reference.Sha256(Photos.Get(name)).Should().Be(Reference.Photo(name).RgbSha256);
    }

    [Theory]
    [MemberData(nameof(JpegPhotos))]
    public void SkiaSharpJpegDecoder_GivesTheSamePixelsAsTurboJpeg(string name)
    {
        // The fallback used without libturbojpeg0, full size and DCT-scaled.
        Photo photo = Reference.Photo(name);
        Reference.Sha256(ImageDecoder.Decode(photo.Path, new ImageDecodeOptions { ForceSkiaJpeg = true })).Should().Be(photo.RgbSha256);
        var draft = new ImageDecodeOptions { ForceSkiaJpeg = true, DraftSize = new ImageSize(224, 224) };
        Reference.Sha256(ImageDecoder.Decode(photo.Path, draft)).Should().Be(photo.Draft224!.Sha256);
    }

    [Fact]
    public void UsesSystemTurboJpeg_WhenLibturbojpegIsInstalled() =>
        ImageDecoder.UsesSystemTurboJpeg.Should().Be(File.Exists("/usr/lib/x86_64-linux-gnu/libturbojpeg.so.0")
                                                     && Environment.GetEnvironmentVariable("DEEPRETRIEVAL_DISABLE_TURBOJPEG") is not ("1" or "true"));

    [Theory]
    [MemberData(nameof(JpegPhotos))]
    public void DraftDecode_EqualsPilDraft(string name)
    {
        Photo photo = Reference.Photo(name);
        PixelImage image = ImageDecoder.Decode(photo.Path, new ImageDecodeOptions { DraftSize = new ImageSize(224, 224) });
        image.Width.Should().Be(photo.Draft224!.Width);
        image.Height.Should().Be(photo.Draft224.Height);
        Reference.Sha256(image).Should().Be(photo.Draft224.Sha256);
    }

    [Theory]
    [InlineData("bmp")]
    [InlineData("gif")]
    [InlineData("png")]
    [InlineData("webp")]
    public void Decode_ReadsEachFormat_AsPilDoes(string format)
    {
        SmallFile file = Reference.Data.Files[format];
        PixelImage image = ImageDecoder.Decode(file.Bytes, sourceName: format);
        (image.Width, image.Height).Should().Be((file.Width, file.Height));
        Reference.Sha256(image).Should().Be(file.RgbSha256);
        ImageDecoder.Identify(Write($"small.{format}", file.Bytes)).Format.ToString().ToLowerInvariant().Should().Be(format);
    }

    [Fact]
    public void Decode_FromPathStreamAndMemory_GiveTheSamePixels()
    {
        byte[] bytes = Reference.Data.Files["png"].Bytes;
        string path = Write("same.png", bytes);
        PixelImage fromPath = ImageDecoder.Decode(path);
        using var stream = new MemoryStream(bytes);
        ImageDecoder.Decode(stream).Pixels.ToArray().Should().Equal(fromPath.Pixels.ToArray());
        ImageDecoder.Decode(bytes).Pixels.ToArray().Should().Equal(fromPath.Pixels.ToArray());
    }

    [Theory]
    [InlineData("rocket", PixelFormat.Rgb24)]
    [InlineData("rocket", PixelFormat.Rgba32)]
    [InlineData("coffee", PixelFormat.Gray8)]
    public void DecodeWithTransform_GivesTheSameResult_AndNeverLeaksThePooledImage(string name, PixelFormat format)
    {
        var options = new ImageDecodeOptions { Format = format };
        string path = Reference.Photo(name).Path;
        PixelImage plain = ImageDecoder.Decode(path, options);
        PixelImage resized = ImageDecoder.Decode(path, options, image => image.Resize(64, 48, ResizeFilter.Lanczos));
        resized.Pixels.ToArray().Should().Equal(plain.Resize(64, 48, ResizeFilter.Lanczos).Pixels.ToArray());

        PixelImage same = ImageDecoder.Decode(path, options, image => image);
        // Decoding again reuses the pooled buffers; the identity result must be a copy that stays intact.
        for (int i = 0; i < 3; i++)
            ImageDecoder.Decode(Reference.Photo("astronaut").Path, options, image => image.CenterCrop(10));
        same.Pixels.ToArray().Should().Equal(plain.Pixels.ToArray());
        ((Action)(() => ImageDecoder.Decode(path, options, _ => null!))).Should().Throw<InvalidOperationException>();
    }

    [Theory]
    [InlineData(PixelFormat.Gray8)]
    [InlineData(PixelFormat.Bgr24)]
    [InlineData(PixelFormat.Rgba32)]
    public void Decode_ConvertsToTheRequestedFormat(PixelFormat format)
    {
        PixelImage rgb = Photos.Get("coffee");
        PixelImage other = ImageDecoder.Decode(Reference.Photo("coffee").Path, new ImageDecodeOptions { Format = format });
        other.Format.Should().Be(format);
        other.Pixels.ToArray().Should().Equal(rgb.ConvertTo(format).Pixels.ToArray());
        if (format == PixelFormat.Gray8)
            Reference.Sha256(other).Should().Be(Reference.Photo("coffee").GreySha256);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void Decode_AppliesExifOrientation_AsPilExifTranspose(int orientation)
    {
        OrientedFile file = Reference.Data.Orientations[orientation.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        string path = Write($"oriented{orientation}.jpg", file.Bytes);

        ImageDecoder.Identify(path).Orientation.Should().Be((ImageOrientation)orientation);
        PixelImage stored = ImageDecoder.Decode(path, new ImageDecodeOptions { ApplyExifOrientation = false });
        Reference.Sha256(stored).Should().Be(file.StoredSha256);
        PixelImage upright = ImageDecoder.Decode(path);
        (upright.Width, upright.Height).Should().Be((file.UprightWidth, file.UprightHeight));
        Reference.Sha256(upright).Should().Be(file.UprightSha256);
    }

    [Fact]
    public void Decode_Throws_ForAnEmptyFile()
    {
        string path = Write("empty.jpg", []);
        Action act = () => ImageDecoder.Decode(path);
        act.Should().Throw<InvalidDataException>().WithMessage($"*{path}*empty*");
    }

    [Theory]
    [InlineData("png")]
    [InlineData("jpg")]
    public void Decode_Throws_ForATruncatedFile(string format)
    {
        byte[] whole = format == "png" ? File.ReadAllBytes(Reference.Photo("coffee").Path) : File.ReadAllBytes(Reference.Photo("rocket").Path);
        string path = Write($"truncated.{format}", whole[..(whole.Length / 2)]);
        Action act = () => ImageDecoder.Decode(path);
        act.Should().Throw<InvalidDataException>().WithMessage($"*{path}*truncated*");
        Action skia = () => ImageDecoder.Decode(path, new ImageDecodeOptions { ForceSkiaJpeg = true });
        skia.Should().Throw<InvalidDataException>().WithMessage($"*{path}*truncated*");
    }

    [Fact]
    public void Decode_Throws_ForNonImageFiles()
    {
        string text = Write("notes.png", "just some text, not a picture"u8.ToArray());
        ((Action)(() => ImageDecoder.Decode(text))).Should().Throw<InvalidDataException>().WithMessage($"*{text}*not a recognised image*");
        var noise = new byte[4096];
        new Random(5).NextBytes(noise);
        string random = Write("noise.jpg", noise);
        ((Action)(() => ImageDecoder.Decode(random))).Should().Throw<InvalidDataException>().WithMessage($"*{random}*");
    }

    [Fact]
    public void Decode_Throws_ForACorruptJpegHeader()
    {
        // Zero the frame header (SOF0/SOF2: length, precision, size, components). Damage inside the entropy-coded
        // data is concealed by libjpeg, in PIL and here alike, and decodes to a damaged picture.
        byte[] bytes = File.ReadAllBytes(Reference.Photo("rocket").Path);
        int sof = Enumerable.Range(0, bytes.Length - 1).First(i => bytes[i] == 0xFF && bytes[i + 1] is 0xC0 or 0xC2);
        bytes.AsSpan(sof + 2, 8).Clear();
        string path = Write("corrupt.jpg", bytes);
        ((Action)(() => ImageDecoder.Decode(path))).Should().Throw<InvalidDataException>().WithMessage($"*{path}*");
    }

    [Fact]
    public void Decode_RefusesADecompressionBomb_BeforeAllocating()
    {
        // A valid PNG header claiming 100,000 × 100,000 pixels (10 Gpixel) and no data: refused from the header alone.
        string path = Write("bomb.png", PngHeader(100_000, 100_000));
        Action act = () => ImageDecoder.Decode(path);
        act.Should().Throw<InvalidDataException>().WithMessage("*100000 × 100000*exceeds the limit of 178,956,970*decompression bomb*");
        ImageDecoder.Identify(path).StoredSize.Should().Be(new ImageSize(100_000, 100_000));
    }

    [Fact]
    public void Decode_HonoursAConfiguredPixelLimit()
    {
        string path = Reference.Photo("chelsea").Path; // 451 × 300 = 135,300 pixels
        ((Action)(() => ImageDecoder.Decode(path, new ImageDecodeOptions { MaxPixels = 135_299 }))).Should().Throw<InvalidDataException>();
        ImageDecoder.Decode(path, new ImageDecodeOptions { MaxPixels = 135_300 }).Width.Should().Be(451);
    }

    [Fact]
    public void Decode_Throws_ForMissingFilesAndBadOptions()
    {
        ((Action)(() => ImageDecoder.Decode(Path.Combine(_folder, "absent.png")))).Should().Throw<FileNotFoundException>();
        ((Action)(() => ImageDecoder.Decode(""))).Should().Throw<ArgumentException>();
        ((Action)(() => ImageDecoder.Decode(Reference.Photo("chelsea").Path, new ImageDecodeOptions { MaxPixels = 0 })))
            .Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => ImageDecoder.Decode(Reference.Photo("chelsea").Path, new ImageDecodeOptions { DraftSize = new ImageSize(0, 5) })))
            .Should().Throw<ArgumentOutOfRangeException>();
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] PngHeader(int width, int height)
    {
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // RGB
        WriteChunk(png, "IHDR", ihdr);
        // One small compressed block, so the header parses; the bomb is in the size, not in the data.
        using (var compressed = new MemoryStream())
        {
            using (var zlib = new System.IO.Compression.ZLibStream(compressed, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
                zlib.Write(new byte[1 + 3 * 64]);
            WriteChunk(png, "IDAT", compressed.ToArray());
        }
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void WriteChunk(Stream stream, string type, byte[] data)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        stream.Write(length);
        byte[] typed = [.. System.Text.Encoding.ASCII.GetBytes(type), .. data];
        stream.Write(typed);
        Span<byte> crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32.HashToUInt32(typed));
        stream.Write(crc);
    }
}
