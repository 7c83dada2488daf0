using System.Buffers;
using System.Runtime.InteropServices;
using DeepRetrieval.Imaging.Processing;
using SkiaSharp;

namespace DeepRetrieval.Imaging;

/// <summary>
/// Decodes JPEG, PNG, WebP, BMP, GIF (first frame), ICO and WBMP files with SkiaSharp into <see cref="PixelImage"/>s,
/// applying the EXIF orientation. Pixels are not colour-managed (embedded ICC profiles are ignored, as PIL ignores
/// them), alpha is kept straight, and grey conversion is PIL's <c>convert("L")</c>, so a PNG decodes to exactly the
/// pixels PIL gives. Files are hostile: the image size is checked against <see cref="ImageDecodeOptions.MaxPixels"/>
/// from the header before any pixel memory is allocated, and empty, truncated, corrupt or non-image input throws
/// <see cref="InvalidDataException"/> naming the file and the problem. Thread-safe.
/// </summary>
public static class ImageDecoder
{
    /// <summary>Decodes an image file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="options">Format, orientation, pixel limit and draft size; null for <see cref="ImageDecodeOptions.Default"/>.</param>
    /// <returns>The decoded image in <see cref="ImageDecodeOptions.Format"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or the options are inconsistent.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is empty, truncated, corrupt, not an image, or larger than the pixel limit.</exception>
    public static PixelImage Decode(string path, ImageDecodeOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= ImageDecodeOptions.Default;
        options.Validate();
        return DecodeFile(path, options, rentals: null);
    }

    /// <summary>
    /// Decodes an image file and transforms it in one step, keeping the decoded image in pooled memory: for pipelines
    /// that only keep a smaller result (decode, resize, crop), this saves allocating and collecting a full-size buffer
    /// per image. The decoded image passed to <paramref name="transform"/> is valid only during the call: the transform
    /// must return a new image (every operation of this package does) and must not keep the one it was given.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="options">Format, orientation, pixel limit and draft size; null for <see cref="ImageDecodeOptions.Default"/>.</param>
    /// <param name="transform">Turns the decoded image into the result, e.g. <c>image =&gt; image.Resize(224, 224, ResizeFilter.Bilinear)</c>.</param>
    /// <returns>What the transform returned (a copy if it returned its input).</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or the options are inconsistent.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is empty, truncated, corrupt, not an image, or larger than the pixel limit.</exception>
    public static PixelImage Decode(string path, ImageDecodeOptions? options, Func<PixelImage, PixelImage> transform)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(transform);
        options ??= ImageDecodeOptions.Default;
        options.Validate();
        using var rentals = new BufferRentals();
        PixelImage decoded = DecodeFile(path, options, rentals);
        PixelImage result = transform(decoded) ?? throw new InvalidOperationException("The transform returned null.");
        return ReferenceEquals(result, decoded) ? decoded.Clone() : result;
    }

    private static PixelImage DecodeFile(string path, ImageDecodeOptions options, BufferRentals? rentals)
    {
        if (UseTurboJpeg(options) && StartsLikeJpeg(path))
        {
            using var file = new BufferRentals();
            ReadOnlyMemory<byte> bytes = ReadFile(path, file);
            return DecodeTurboJpeg(bytes, options, path, rentals) ?? DecodeBytes(bytes.Span, options, path, rentals);
        }
        using SKCodec codec = OpenFile(path);
        return DecodeCodec(codec, options, path, rentals);
    }

    // The whole file into a pooled buffer: the JPEG road needs it in memory, and it is garbage once decoded.
    private static ReadOnlyMemory<byte> ReadFile(string path, BufferRentals rentals)
    {
        using var handle = File.OpenHandle(path);
        long length = RandomAccess.GetLength(handle);
        if (length > Array.MaxLength)
            throw Invalid(path, $"the file is {length:N0} bytes, more than one buffer holds");
        byte[] buffer = rentals.Rent((int)length);
        int read = 0;
        while (read < length)
        {
            int n = RandomAccess.Read(handle, buffer.AsSpan(read, (int)length - read), read);
            if (n == 0)
                break;
            read += n;
        }
        return buffer.AsMemory(0, read);
    }

    /// <summary>Decodes an image held in memory.</summary>
    /// <param name="data">The encoded file's bytes.</param>
    /// <param name="options">Format, orientation, pixel limit and draft size; null for <see cref="ImageDecodeOptions.Default"/>.</param>
    /// <param name="sourceName">A name for error messages (a URL, a key); null gives "the image data".</param>
    /// <exception cref="InvalidDataException">The data is empty, truncated, corrupt, not an image, or larger than the pixel limit.</exception>
    public static PixelImage Decode(ReadOnlySpan<byte> data, ImageDecodeOptions? options = null, string? sourceName = null)
    {
        options ??= ImageDecodeOptions.Default;
        options.Validate();
        string name = sourceName ?? "the image data";
        if (UseTurboJpeg(options) && data.Length > 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF
            && DecodeTurboJpeg(data.ToArray(), options, name, rentals: null) is { } image)
            return image;
        return DecodeBytes(data, options, name, rentals: null);
    }

    private static PixelImage DecodeBytes(ReadOnlySpan<byte> data, ImageDecodeOptions options, string name, BufferRentals? rentals)
    {
        if (data.IsEmpty)
            throw Invalid(name, "the data is empty (0 bytes)");
        using SKData skData = SKData.CreateCopy(data);
        using SKCodec codec = Open(skData, name);
        return DecodeCodec(codec, options, name, rentals);
    }

    // The TurboJPEG road: header, EXIF orientation and pixels without creating a SkiaSharp codec. Null when TurboJPEG
    // cannot handle the file (CMYK, a fatal libjpeg error): SkiaSharp then decodes it, or reports what is wrong.
    private static PixelImage? DecodeTurboJpeg(ReadOnlyMemory<byte> jpeg, ImageDecodeOptions options, string name, BufferRentals? rentals)
    {
        if (!TurboJpeg.TryOpen(jpeg.Span, out nint handle, out int width, out int height))
            return null;
        try
        {
            CheckSize(width, height, options, name);
            ImageOrientation orientation = options.ApplyExifOrientation ? JpegExif.ReadOrientation(jpeg.Span) : ImageOrientation.TopLeft;
            // libjpeg-turbo's scaled sizes are ⌈size / s⌉, as PIL's draft computes them.
            (int decodedWidth, int decodedHeight) = DraftDimensions(width, height, options.DraftSize, orientation,
                scale => ((width + scale - 1) / scale, (height + scale - 1) / scale));
            bool failed = false;
            PixelImage result = Produce(decodedWidth, decodedHeight, orientation, options, rentals,
                (rgba, w, h) => failed = !TurboJpeg.TryDecode(handle, jpeg.Span, rgba, w, h, name));
            return failed ? null : result;
        }
        finally
        {
            TurboJpeg.Close(handle);
        }
    }

    /// <summary>
    /// True when JPEGs are decoded by the system's TurboJPEG library (Debian's <c>libturbojpeg0</c>), which is SIMD-
    /// accelerated, instead of the libjpeg-turbo bundled in SkiaSharp (built without SIMD on x64). Both give the same
    /// pixels; set the environment variable <c>DEEPRETRIEVAL_DISABLE_TURBOJPEG=1</c> to always use SkiaSharp.
    /// </summary>
    public static bool UsesSystemTurboJpeg => TurboJpeg.IsAvailable;

    private static bool UseTurboJpeg(ImageDecodeOptions options) => TurboJpeg.IsAvailable && !options.ForceSkiaJpeg;

    private static bool StartsLikeJpeg(string path)
    {
        Span<byte> magic = stackalloc byte[3];
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
            return stream.ReadAtLeast(magic, 3, throwOnEndOfStream: false) == 3 && magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF;
        }
        catch (IOException)
        {
            return false; // OpenFile reports the problem
        }
    }

    /// <summary>Decodes an image read to the end of a stream.</summary>
    /// <param name="stream">A readable stream positioned at the image's first byte.</param>
    /// <param name="options">Format, orientation, pixel limit and draft size; null for <see cref="ImageDecodeOptions.Default"/>.</param>
    /// <param name="sourceName">A name for error messages; null gives "the image stream".</param>
    /// <exception cref="InvalidDataException">The data is empty, truncated, corrupt, not an image, or larger than the pixel limit.</exception>
    public static PixelImage Decode(Stream stream, ImageDecodeOptions? options = null, string? sourceName = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return Decode(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), options, sourceName ?? "the image stream");
    }

    /// <summary>Reads an image file's format, size and orientation from its header without decoding its pixels.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is empty or not a recognised image.</exception>
    public static ImageInfo Identify(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using SKCodec codec = OpenFile(path);
        return InfoOf(codec);
    }

    private static ImageInfo InfoOf(SKCodec codec) =>
        new(FormatOf(codec.EncodedFormat), new ImageSize(codec.Info.Width, codec.Info.Height), OrientationOf(codec.EncodedOrigin));

    private static SKCodec OpenFile(string path)
    {
        var file = new FileInfo(path);
        if (!file.Exists)
            throw new FileNotFoundException($"Image file '{path}' does not exist.", path);
        if (file.Length == 0)
            throw Invalid(path, "the file is empty (0 bytes)");
        // Skia's own file stream: no managed copy of the whole file, and the header is parsed before anything else.
        SKCodec? codec = SKCodec.Create(path, out SKCodecResult result);
        return codec ?? throw NotAnImage(path, result);
    }

    private static SKCodec Open(SKData data, string name)
    {
        var stream = new SKMemoryStream(data);
        SKCodec? codec = SKCodec.Create(stream, out SKCodecResult result);
        if (codec is null)
        {
            stream.Dispose();
            throw NotAnImage(name, result);
        }
        return codec; // the codec owns the stream from here on
    }

    private static InvalidDataException NotAnImage(string name, SKCodecResult result) => result switch
    {
        SKCodecResult.IncompleteInput => Invalid(name, "the header is truncated"),
        SKCodecResult.ErrorInInput or SKCodecResult.InvalidInput => Invalid(name, $"the header is corrupt ({result})"),
        _ => Invalid(name, $"not a recognised image format ({result}); JPEG, PNG, WebP, BMP, GIF, ICO and WBMP are read"),
    };

    private static PixelImage DecodeCodec(SKCodec codec, ImageDecodeOptions options, string name, BufferRentals? rentals)
    {
        int width = codec.Info.Width, height = codec.Info.Height;
        CheckSize(width, height, options, name);
        ImageOrientation orientation = options.ApplyExifOrientation ? OrientationOf(codec.EncodedOrigin) : ImageOrientation.TopLeft;
        (int decodedWidth, int decodedHeight) = codec.EncodedFormat != SKEncodedImageFormat.Jpeg
            ? (width, height)
            : DraftDimensions(width, height, options.DraftSize, orientation, scale =>
            {
                SKSizeI scaled = codec.GetScaledDimensions(1f / scale);
                return (scaled.Width, scaled.Height);
            });
        return Produce(decodedWidth, decodedHeight, orientation, options, rentals, (rgba, w, h) =>
        {
            var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
            SKCodecResult result;
            unsafe
            {
                fixed (byte* destination = rgba)
                    result = codec.GetPixels(info, (IntPtr)destination, w * 4, new SKCodecOptions(SKZeroInitialized.No));
            }
            if (result != SKCodecResult.Success)
                throw result switch
                {
                    SKCodecResult.IncompleteInput => Invalid(name, "the image data is truncated"),
                    SKCodecResult.ErrorInInput or SKCodecResult.InvalidInput => Invalid(name, $"the image data is corrupt ({result})"),
                    _ => Invalid(name, $"decoding failed ({result})"),
                };
        });
    }

    private delegate void RgbaWriter(Span<byte> rgba, int width, int height);

    // Decodes into RGBA (straight into the result when no orientation or conversion follows), then turns and converts.
    // With rentals the result lives in pooled memory that the caller returns.
    private static PixelImage Produce(int width, int height, ImageOrientation orientation, ImageDecodeOptions options,
        BufferRentals? rentals, RgbaWriter decode)
    {
        bool direct = options.Format == PixelFormat.Rgba32 && orientation == ImageOrientation.TopLeft;
        int length = width * height * 4;
        // Every byte is written by the decoder, so a fresh result buffer need not be zeroed first.
        byte[] rgba = direct && rentals is null ? GC.AllocateUninitializedArray<byte>(length)
            : direct ? rentals!.Rent(length) : ArrayPool<byte>.Shared.Rent(length);
        try
        {
            decode(rgba.AsSpan(0, length), width, height);
            if (direct)
                return new PixelImage(width, height, PixelFormat.Rgba32, rgba, length);
            var upright = Orientation.Apply(rgba.AsSpan(0, length), width, height, orientation);
            int outLength = upright.Width * upright.Height * options.Format.ChannelCount();
            byte[] output = rentals?.Rent(outLength) ?? GC.AllocateUninitializedArray<byte>(outLength);
            var result = new PixelImage(upright.Width, upright.Height, options.Format, output, outLength);
            ColorConversion.Convert(upright.Pixels, PixelFormat.Rgba32, result.Pixels, options.Format);
            return result;
        }
        finally
        {
            if (!direct)
                ArrayPool<byte>.Shared.Return(rgba);
        }
    }

    private static void CheckSize(int width, int height, ImageDecodeOptions options, string name)
    {
        if (width <= 0 || height <= 0)
            throw Invalid(name, $"the header gives an empty size {width} × {height}");
        long pixels = (long)width * height;
        if (pixels > options.MaxPixels)
            throw Invalid(name, $"{width} × {height} = {pixels:N0} pixels exceeds the limit of {options.MaxPixels:N0} " +
                "(a possible decompression bomb; raise ImageDecodeOptions.MaxPixels to accept it)");
        if (pixels * 4 > Array.MaxLength)
            throw Invalid(name, $"{width} × {height} is too large to decode into one buffer");
    }

    // PIL's JpegImageFile.draft: scale = min(w // tw, h // th), then the largest of 8, 4, 2, 1 not above it. The decoder
    // must give ⌈size / scale⌉ (libjpeg-turbo rounds up, as PIL does); anything else means no DCT scaling here.
    private static (int Width, int Height) DraftDimensions(int width, int height, ImageSize? draft, ImageOrientation orientation,
        Func<int, (int Width, int Height)> scaledSize)
    {
        if (draft is not { } target)
            return (width, height);
        if (orientation >= ImageOrientation.LeftTop)
            target = new ImageSize(target.Height, target.Width);
        int ratio = Math.Min(width / target.Width, height / target.Height);
        int scale = ratio >= 8 ? 8 : ratio >= 4 ? 4 : ratio >= 2 ? 2 : 1;
        if (scale == 1)
            return (width, height);
        (int w, int h) = scaledSize(scale);
        return w == (width + scale - 1) / scale && h == (height + scale - 1) / scale ? (w, h) : (width, height);
    }

    private static ImageOrientation OrientationOf(SKEncodedOrigin origin) =>
        origin is >= SKEncodedOrigin.TopLeft and <= SKEncodedOrigin.LeftBottom ? (ImageOrientation)(int)origin : ImageOrientation.TopLeft;

    private static ImageFileFormat FormatOf(SKEncodedImageFormat format) => format switch
    {
        SKEncodedImageFormat.Jpeg => ImageFileFormat.Jpeg,
        SKEncodedImageFormat.Png => ImageFileFormat.Png,
        SKEncodedImageFormat.Webp => ImageFileFormat.Webp,
        SKEncodedImageFormat.Bmp => ImageFileFormat.Bmp,
        SKEncodedImageFormat.Gif => ImageFileFormat.Gif,
        SKEncodedImageFormat.Ico => ImageFileFormat.Ico,
        SKEncodedImageFormat.Wbmp => ImageFileFormat.Wbmp,
        _ => ImageFileFormat.Other,
    };

    internal static InvalidDataException Invalid(string name, string problem) => new($"Cannot decode image '{name}': {problem}.");
}
