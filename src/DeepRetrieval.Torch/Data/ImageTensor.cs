using System.Runtime.InteropServices;
using DeepRetrieval.Imaging;
using DeepRetrieval.Imaging.Processing;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Data;

/// <summary>
/// Turns one image into a C × H × W float tensor with an <see cref="ImagePreprocessing"/>: a file (decoded by
/// <c>DeepRetrieval.Imaging</c>'s <see cref="ImageDecoder"/>) or an already decoded <see cref="PixelImage"/>. Use it for query
/// images; folders and lists of files go through an <see cref="ImageFileSet"/>.
/// </summary>
public static class ImageTensor
{
    /// <summary>Decodes an image file into a new C × H × W float32 CPU tensor.</summary>
    /// <param name="path">The image file.</param>
    /// <param name="preprocessing">Resize, crop, colour and normalisation; null keeps the decoded RGB image in [0, 1].</param>
    /// <exception cref="ArgumentException">The path is empty or the preprocessing settings are inconsistent.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is empty, truncated, corrupt, not an image or over the pixel limit (the message names it).</exception>
    public static Tensor Load(string path, ImagePreprocessing? preprocessing = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        preprocessing ??= new ImagePreprocessing();
        preprocessing.Validate();
        return ToTensor(preprocessing.DecodeAndResize(path), preprocessing.Normalization());
    }

    /// <summary>Resizes, crops and normalises a decoded image into a new C × H × W float32 CPU tensor.</summary>
    /// <param name="image">The image, in any pixel format (converted to RGB or grey as the preprocessing says; alpha is dropped).</param>
    /// <param name="preprocessing">Resize, crop, colour and normalisation (its decode options do not apply); null keeps the image in [0, 1].</param>
    /// <exception cref="ArgumentException">The preprocessing settings are inconsistent.</exception>
    public static Tensor FromImage(PixelImage image, ImagePreprocessing? preprocessing = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        preprocessing ??= new ImagePreprocessing();
        preprocessing.Validate();
        PixelFormat format = preprocessing.Grayscale ? PixelFormat.Gray8 : PixelFormat.Rgb24;
        PixelImage converted = image.Format == format ? image : image.ConvertTo(format);
        return ToTensor(preprocessing.Resize(converted), preprocessing.Normalization());
    }

    internal static Tensor ToTensor(PixelImage image, ChannelNormalization normalization)
    {
        Tensor result = empty([normalization.Planes, image.Height, image.Width], ScalarType.Float32);
        image.ToChw(MemoryMarshal.Cast<byte, float>(result.bytes), normalization);
        return result;
    }
}
