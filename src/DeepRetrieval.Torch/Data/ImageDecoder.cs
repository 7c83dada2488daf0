using SkiaSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Data;

/// <summary>
/// Decodes image files (JPEG, PNG, BMP, GIF's first frame, WebP) with SkiaSharp into C × H × W float tensors, applying an
/// <see cref="ImagePreprocessing"/>: use it for query images outside a dataset. Alpha is dropped without blending, and EXIF
/// orientation is not applied, as PIL's <c>convert("RGB")</c> does, so results match torchvision's <c>ImageFolder</c> loader.
/// </summary>
public static class ImageDecoder
{
    // Guards against decompression bombs: a header may claim any size, and the pixels are allocated before decoding.
    private const long MaxPixels = 1L << 28;

    /// <summary>Decodes an image file into a new C × H × W float32 CPU tensor.</summary>
    /// <param name="path">The image file.</param>
    /// <param name="preprocessing">Resize, crop, colour and normalisation; null keeps the decoded RGB image in [0, 1].</param>
    /// <exception cref="ArgumentException">The preprocessing settings are inconsistent.</exception>
    /// <exception cref="InvalidDataException">The file is empty, truncated, corrupt or not an image (the message names it).</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static Tensor Load(string path, ImagePreprocessing? preprocessing = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        preprocessing ??= new ImagePreprocessing();
        preprocessing.Validate();
        DecodedImage image = Decode(path, preprocessing);
        return tensor(image.Pixels, [image.Channels, image.Height, image.Width], ScalarType.Float32);
    }

    internal static DecodedImage Decode(string path, ImagePreprocessing preprocessing)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length == 0)
            throw Invalid(path, "the file is empty");
        using var stream = new MemoryStream(bytes, writable: false);
        using SKCodec? codec = SKCodec.Create(stream, out SKCodecResult openResult);
        if (codec is null)
            throw Invalid(path, $"not a decodable image ({openResult}): the format is unknown or the header is corrupt");
        int width = codec.Info.Width, height = codec.Info.Height;
        if (width <= 0 || height <= 0 || (long)width * height > MaxPixels)
            throw Invalid(path, $"absurd image size {width} × {height}");

        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var decoded = new SKBitmap(info);
        SKCodecResult result = codec.GetPixels(info, decoded.GetPixels());
        if (result != SKCodecResult.Success)
        {
            string reason = result == SKCodecResult.IncompleteInput ? "the image data is truncated" : $"decoding failed ({result})";
            throw Invalid(path, reason);
        }

        (int resizedWidth, int resizedHeight) = ResizedSize(width, height, preprocessing);
        SKBitmap resized = decoded;
        try
        {
            if (resizedWidth != width || resizedHeight != height)
            {
                resized = decoded.Resize(new SKImageInfo(resizedWidth, resizedHeight, SKColorType.Rgba8888, SKAlphaType.Unpremul), SKFilterQuality.High)
                    ?? throw Invalid(path, $"resizing {width} × {height} to {resizedWidth} × {resizedHeight} failed");
            }
            return ToFloats(resized, preprocessing);
        }
        finally
        {
            if (!ReferenceEquals(resized, decoded))
                resized.Dispose();
        }
    }

    internal static (int Width, int Height) ResizedSize(int width, int height, ImagePreprocessing preprocessing)
    {
        int size = preprocessing.Size;
        switch (preprocessing.ResizeMode)
        {
            case ImageResizeMode.Square:
                return (size, size);
            case ImageResizeMode.ShorterSide:
                // torchvision truncates the longer side: int(size * long / short).
                return width <= height
                    ? (size, Math.Max(1, (int)((long)size * height / width)))
                    : (Math.Max(1, (int)((long)size * width / height)), size);
            case ImageResizeMode.LongerSide:
                return width >= height
                    ? (size, Math.Max(1, (int)((long)size * height / width)))
                    : (Math.Max(1, (int)((long)size * width / height)), size);
            default:
                return (width, height);
        }
    }

    // torchvision's CenterCrop: offset round((side − crop) / 2) with Python's round-half-even; a crop larger than the image
    // pads zeros, (crop − side) / 2 of them before the image.
    internal static int CropOffset(int side, int crop) =>
        crop <= side ? (int)Math.Round((side - crop) / 2.0, MidpointRounding.ToEven) : -((crop - side) / 2);

    private static DecodedImage ToFloats(SKBitmap bitmap, ImagePreprocessing preprocessing)
    {
        int width = bitmap.Width, height = bitmap.Height;
        int outWidth = preprocessing.CenterCropSize ?? width, outHeight = preprocessing.CenterCropSize ?? height;
        int left = CropOffset(width, outWidth), top = CropOffset(height, outHeight);
        int channels = preprocessing.Channels;
        int plane = outWidth * outHeight;
        var pixels = new float[channels * plane];
        ReadOnlySpan<byte> source = bitmap.GetPixelSpan();
        int rowBytes = bitmap.RowBytes;

        for (int y = 0; y < outHeight; y++)
        {
            int sy = y + top;
            if ((uint)sy >= (uint)height)
                continue;
            ReadOnlySpan<byte> row = source.Slice(sy * rowBytes, width * 4);
            int outRow = y * outWidth;
            for (int x = 0; x < outWidth; x++)
            {
                int sx = x + left;
                if ((uint)sx >= (uint)width)
                    continue;
                int r = row[sx * 4], g = row[sx * 4 + 1], b = row[sx * 4 + 2];
                if (channels == 1)
                {
                    // PIL's integer ITU-R 601-2 luma, so grey values match torchvision's loader exactly.
                    pixels[outRow + x] = ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16) / 255f;
                }
                else
                {
                    pixels[outRow + x] = r / 255f;
                    pixels[plane + outRow + x] = g / 255f;
                    pixels[2 * plane + outRow + x] = b / 255f;
                }
            }
        }

        if (preprocessing.Mean is not null || preprocessing.Std is not null)
        {
            for (int c = 0; c < channels; c++)
            {
                float mean = preprocessing.Mean?[c] ?? 0f, std = preprocessing.Std?[c] ?? 1f;
                foreach (ref float value in pixels.AsSpan(c * plane, plane))
                    value = (value - mean) / std;
            }
        }
        return new DecodedImage(pixels, channels, outHeight, outWidth);
    }

    private static InvalidDataException Invalid(string path, string reason) => new($"Cannot decode image '{path}': {reason}.");
}
