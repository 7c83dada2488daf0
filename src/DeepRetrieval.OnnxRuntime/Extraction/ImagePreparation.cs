namespace DeepRetrieval.OnnxRuntime.Extraction;

/// <summary>How a decoded photo of any size becomes the model's H × W input.</summary>
public enum ImagePreparation
{
    /// <summary>
    /// Resize keeping the aspect ratio until the image covers H × W (divided by <see cref="OnnxExtractionOptions.CropFraction"/>),
    /// then cut the centre: ML.NET's <c>IsoCrop</c> with a fraction of 1, torchvision's <c>Resize(256)</c> + <c>CenterCrop(224)</c>
    /// with 0.875.
    /// </summary>
    CenterCrop,

    /// <summary>Resize to exactly H × W, ignoring the aspect ratio (ML.NET's <c>Fill</c>): nothing is cut off, shapes are squashed.</summary>
    Stretch,

    /// <summary>Resize to fit inside H × W keeping the aspect ratio and pad the rest with black: nothing is cut off or squashed.</summary>
    Letterbox,
}
