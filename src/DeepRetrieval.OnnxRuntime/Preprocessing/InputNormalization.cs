using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace DeepRetrieval.OnnxRuntime.Preprocessing;

/// <summary>
/// How 8-bit pixels become a model's input planes: colour planes in <see cref="ChannelOrder"/>, each value divided by
/// <see cref="Divisor"/>, minus a per-channel <see cref="Mean"/> (or a per-pixel mean image), divided by a per-channel
/// <see cref="Std"/>: <c>x = (p / divisor − mean) / std</c>, evaluated in float32 in that order, so the ImageNet preset gives
/// bit for bit what torchvision's <c>ToTensor()</c> + <c>Normalize(mean, std)</c> give on the same pixels.
/// </summary>
/// <remarks>
/// This is the embedder's image-agnostic input step: decoding, EXIF orientation, resizing and cropping happen before it (in the
/// image package or the app), and it receives interleaved pixels already at the model's input size. Instances are immutable and
/// thread-safe.
/// </remarks>
public sealed class InputNormalization
{
    private readonly float[] _mean;
    private readonly float[] _std;
    private readonly float[]? _meanImage;
    // Per channel, the normalised value of each byte (per-channel mean), or each byte divided by the divisor (mean image): the
    // same float operations as the formula, done once per byte value instead of once per pixel.
    private readonly float[] _table;

    /// <summary>Creates a normalisation with per-channel mean and standard deviation.</summary>
    /// <param name="order">The plane order the model expects (ignored for one channel).</param>
    /// <param name="divisor">Pixels are divided by this first: 255 for inputs in [0, 1], 1 for inputs in [0, 255].</param>
    /// <param name="mean">One mean per channel (1 or 3 values), subtracted after dividing.</param>
    /// <param name="std">One positive standard deviation per channel, divided by last.</param>
    /// <exception cref="ArgumentException">The lists do not hold one or three finite values each, of equal count, or a std is not positive.</exception>
    public InputNormalization(ChannelOrder order, float divisor, IReadOnlyList<float> mean, IReadOnlyList<float> std)
        : this(order, divisor, CheckedMean(mean), CheckedStd(std, mean.Count), meanImage: null, 0, 0)
    {
    }

    private InputNormalization(ChannelOrder order, float divisor, float[] mean, float[] std, float[]? meanImage, int meanImageHeight, int meanImageWidth)
    {
        if (!Enum.IsDefined(order))
            throw new ArgumentOutOfRangeException(nameof(order), order, "Unknown channel order.");
        if (!(divisor > 0) || !float.IsFinite(divisor))
            throw new ArgumentOutOfRangeException(nameof(divisor), divisor, "The divisor must be positive and finite (255 for [0, 1] inputs, 1 for [0, 255]).");
        ChannelOrder = order;
        Divisor = divisor;
        _mean = mean;
        _std = std;
        _meanImage = meanImage;
        MeanImageHeight = meanImageHeight;
        MeanImageWidth = meanImageWidth;
        _table = new float[Channels * 256];
        for (int c = 0; c < Channels; c++)
        {
            for (int value = 0; value < 256; value++)
                _table[c * 256 + value] = meanImage is null ? (value / divisor - mean[c]) / std[c] : value / divisor;
        }
        Description = BuildDescription();
    }

    /// <summary>
    /// ImageNet statistics on RGB values in [0, 1] (torchvision's and timm's default): mean (0.485, 0.456, 0.406),
    /// std (0.229, 0.224, 0.225).
    /// </summary>
    public static InputNormalization ImageNet { get; } = new(ChannelOrder.Rgb, 255f, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    /// <summary>RGB values in [0, 1] with no mean or std (models that normalise inside their graph).</summary>
    public static InputNormalization UnitRangeRgb { get; } = new(ChannelOrder.Rgb, 255f, [0f, 0f, 0f], [1f, 1f, 1f]);

    /// <summary>The plane order the model expects.</summary>
    public ChannelOrder ChannelOrder { get; }

    /// <summary>Pixels are divided by this before the mean is subtracted.</summary>
    public float Divisor { get; }

    /// <summary>Input channels: 1 or 3.</summary>
    public int Channels => _std.Length;

    /// <summary>The per-channel means (zeros when a mean image is used instead).</summary>
    public IReadOnlyList<float> Mean => _mean;

    /// <summary>The per-channel standard deviations.</summary>
    public IReadOnlyList<float> Std => _std;

    /// <summary>Whether a per-pixel mean image is subtracted instead of per-channel means.</summary>
    public bool HasMeanImage => _meanImage is not null;

    /// <summary>The mean image, C × H × W in the model's plane order; empty when there is none.</summary>
    public ReadOnlyMemory<float> MeanImage => _meanImage;

    /// <summary>Height of the mean image (the only input height it fits); 0 when there is none.</summary>
    public int MeanImageHeight { get; }

    /// <summary>Width of the mean image; 0 when there is none.</summary>
    public int MeanImageWidth { get; }

    /// <summary>
    /// Every parameter as text, e.g. <c>rgb/255 mean=[0.485;0.456;0.406] std=[0.229;0.224;0.225]</c>; a mean image appears as its
    /// shape and SHA-256. Equal descriptions mean equal inputs; the embedder's fingerprint includes it.
    /// </summary>
    public string Description { get; }

    /// <summary>Creates a normalisation that subtracts a per-pixel mean image (Caffe-style), then divides by per-channel std.</summary>
    /// <param name="order">The plane order the model expects; the mean image is in this order.</param>
    /// <param name="divisor">Pixels are divided by this first.</param>
    /// <param name="meanImage">C × H × W means, C = 1 or 3.</param>
    /// <param name="height">H, the only input height this normalisation accepts.</param>
    /// <param name="width">W.</param>
    /// <param name="std">One positive standard deviation per channel; null for none.</param>
    /// <exception cref="ArgumentException">The sizes do not match the mean image's length, a value is not finite, or a std is not positive.</exception>
    public static InputNormalization WithMeanImage(ChannelOrder order, float divisor, ReadOnlySpan<float> meanImage, int height, int width, IReadOnlyList<float>? std = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        long plane = (long)height * width;
        if (meanImage.Length % plane != 0 || meanImage.Length / plane is not (1 or 3))
            throw new ArgumentException($"The mean image must hold 1 or 3 planes of {height} × {width}; it holds {meanImage.Length} values.", nameof(meanImage));
        int channels = (int)(meanImage.Length / plane);
        foreach (float value in meanImage)
        {
            if (!float.IsFinite(value))
                throw new ArgumentException("The mean image must hold finite values.", nameof(meanImage));
        }
        float[] deviations = std is null ? Enumerable.Repeat(1f, channels).ToArray() : CheckedStd(std, channels);
        return new InputNormalization(order, divisor, new float[channels], deviations, meanImage.ToArray(), height, width);
    }

    /// <summary>
    /// Converts one image of interleaved 8-bit pixels (H × W × bytes per pixel, rows top to bottom, already at the model's input
    /// size) into normalised C × H × W planes.
    /// </summary>
    /// <param name="pixels">The pixels; rows may be padded (see <paramref name="rowBytes"/>).</param>
    /// <param name="width">W in pixels.</param>
    /// <param name="height">H in pixels.</param>
    /// <param name="format">The byte layout of a pixel. Colour formats need a three-channel normalisation; grey feeds one channel or
    /// is repeated into three.</param>
    /// <param name="planes">Receives C · H · W floats.</param>
    /// <param name="rowBytes">Bytes from one row to the next; 0 for tightly packed rows (W · bytes per pixel).</param>
    /// <exception cref="ArgumentException">A size is not positive, the buffers are too small or of the wrong length, the image size
    /// differs from the mean image's, or a colour format meets a one-channel normalisation.</exception>
    public void Normalize(ReadOnlySpan<byte> pixels, int width, int height, PixelFormat format, Span<float> planes, int rowBytes = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        int bytesPerPixel = BytesPerPixel(format);
        if (rowBytes == 0) rowBytes = width * bytesPerPixel;
        if (rowBytes < width * bytesPerPixel)
            throw new ArgumentOutOfRangeException(nameof(rowBytes), rowBytes, $"A row of {width} {format} pixels needs at least {width * bytesPerPixel} bytes.");
        long needed = (long)(height - 1) * rowBytes + (long)width * bytesPerPixel;
        if (pixels.Length < needed)
            throw new ArgumentException($"{width} × {height} {format} pixels with {rowBytes} bytes per row need {needed} bytes; got {pixels.Length}.", nameof(pixels));
        int plane = width * height;
        if (planes.Length != (long)Channels * plane)
            throw new ArgumentException($"The planes must hold {Channels} × {height} × {width} = {(long)Channels * plane} floats; got {planes.Length}.", nameof(planes));
        if (_meanImage is not null && (height != MeanImageHeight || width != MeanImageWidth))
            throw new ArgumentException($"This normalisation subtracts a {MeanImageHeight} × {MeanImageWidth} mean image; the pixels are {height} × {width}. Resize to the model's input size first.", nameof(pixels));
        if (Channels == 1 && format != PixelFormat.Gray8)
            throw new ArgumentException($"The model takes one (grey) channel; convert the {format} pixels to grey first.", nameof(format));

        Span<int> offsets = stackalloc int[Channels];
        SourceOffsets(format, offsets);
        for (int c = 0; c < Channels; c++)
        {
            ReadOnlySpan<float> table = _table.AsSpan(c * 256, 256);
            Span<float> target = planes.Slice(c * plane, plane);
            int offset = offsets[c];
            if (_meanImage is null)
            {
                for (int y = 0; y < height; y++)
                {
                    ReadOnlySpan<byte> row = pixels.Slice(y * rowBytes);
                    Span<float> outRow = target.Slice(y * width, width);
                    for (int x = 0; x < outRow.Length; x++) outRow[x] = table[row[x * bytesPerPixel + offset]];
                }
            }
            else
            {
                ReadOnlySpan<float> means = _meanImage.AsSpan(c * plane, plane);
                float std = _std[c];
                for (int y = 0; y < height; y++)
                {
                    ReadOnlySpan<byte> row = pixels.Slice(y * rowBytes);
                    Span<float> outRow = target.Slice(y * width, width);
                    ReadOnlySpan<float> meanRow = means.Slice(y * width, width);
                    for (int x = 0; x < outRow.Length; x++) outRow[x] = (table[row[x * bytesPerPixel + offset]] - meanRow[x]) / std;
                }
            }
        }
    }

    /// <summary>Converts one image into a new array of normalised C × H × W planes (see the span overload).</summary>
    /// <param name="pixels">The pixels.</param>
    /// <param name="width">W in pixels.</param>
    /// <param name="height">H in pixels.</param>
    /// <param name="format">The byte layout of a pixel.</param>
    /// <param name="rowBytes">Bytes from one row to the next; 0 for tightly packed rows.</param>
    /// <returns>C · H · W floats.</returns>
    /// <exception cref="ArgumentException">See the span overload.</exception>
    public float[] Normalize(ReadOnlySpan<byte> pixels, int width, int height, PixelFormat format, int rowBytes = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        var planes = new float[(long)Channels * width * height];
        Normalize(pixels, width, height, format, planes, rowBytes);
        return planes;
    }

    /// <summary>Converts a decoded image of the image package into normalised C × H × W planes.</summary>
    /// <param name="image">The pixels (grey, RGB, BGR or RGBA; alpha is ignored), already at the model's input size.</param>
    /// <param name="planes">Receives <see cref="Channels"/> × H × W floats.</param>
    /// <exception cref="ArgumentException">See the span overload.</exception>
    public void Normalize(DeepRetrieval.Imaging.PixelImage image, Span<float> planes)
    {
        ArgumentNullException.ThrowIfNull(image);
        Normalize(image.Pixels, image.Width, image.Height, FormatOf(image.Format), planes);
    }

    /// <summary>The layout of a <see cref="DeepRetrieval.Imaging.PixelImage"/>'s pixels as this package names it.</summary>
    /// <param name="format">The image package's pixel format.</param>
    /// <exception cref="ArgumentOutOfRangeException">The format is unknown.</exception>
    public static PixelFormat FormatOf(DeepRetrieval.Imaging.PixelFormat format) => format switch
    {
        DeepRetrieval.Imaging.PixelFormat.Gray8 => PixelFormat.Gray8,
        DeepRetrieval.Imaging.PixelFormat.Rgb24 => PixelFormat.Rgb24,
        DeepRetrieval.Imaging.PixelFormat.Bgr24 => PixelFormat.Bgr24,
        DeepRetrieval.Imaging.PixelFormat.Rgba32 => PixelFormat.Rgba32,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown pixel format."),
    };

    /// <inheritdoc />
    public override string ToString() => Description;

    internal static int BytesPerPixel(PixelFormat format) => format switch
    {
        PixelFormat.Rgb24 or PixelFormat.Bgr24 => 3,
        PixelFormat.Rgba32 or PixelFormat.Bgra32 => 4,
        PixelFormat.Gray8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown pixel format."),
    };

    // Byte offset inside a pixel of the colour each model plane takes.
    private void SourceOffsets(PixelFormat format, Span<int> offsets)
    {
        if (format == PixelFormat.Gray8)
        {
            offsets.Clear();
            return;
        }
        bool sourceIsBgr = format is PixelFormat.Bgr24 or PixelFormat.Bgra32;
        int red = sourceIsBgr ? 2 : 0, blue = sourceIsBgr ? 0 : 2;
        offsets[0] = ChannelOrder == ChannelOrder.Rgb ? red : blue;
        offsets[1] = 1;
        offsets[2] = ChannelOrder == ChannelOrder.Rgb ? blue : red;
    }

    private string BuildDescription()
    {
        string order = Channels == 1 ? "grey" : ChannelOrder == ChannelOrder.Rgb ? "rgb" : "bgr";
        string mean = _meanImage is null
            ? "mean=" + List(_mean)
            : $"meanImage={Channels}x{MeanImageHeight}x{MeanImageWidth}:sha256={Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(_meanImage.AsSpan())))}";
        return $"{order}/{Format(Divisor)} {mean} std={List(_std)}";
    }

    private static string List(float[] values) => "[" + string.Join(";", values.Select(Format)) + "]";

    private static string Format(float value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static float[] CheckedMean(IReadOnlyList<float> mean)
    {
        ArgumentNullException.ThrowIfNull(mean);
        if (mean.Count is not (1 or 3) || mean.Any(m => !float.IsFinite(m)))
            throw new ArgumentException($"The mean must hold 1 or 3 finite values (one per channel); got [{string.Join(", ", mean)}].", nameof(mean));
        return [.. mean];
    }

    private static float[] CheckedStd(IReadOnlyList<float> std, int channels)
    {
        ArgumentNullException.ThrowIfNull(std);
        if (std.Count != channels || std.Any(s => !(s > 0) || !float.IsFinite(s)))
            throw new ArgumentException($"The std must hold {channels} positive finite values (one per channel); got [{string.Join(", ", std)}].", nameof(std));
        return [.. std];
    }
}
