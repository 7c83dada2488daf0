namespace DeepRetrieval.Torch.Data;

/// <summary>How <see cref="ImagePreprocessing"/> resizes a decoded image before any center crop.</summary>
public enum ImageResizeMode
{
    /// <summary>Keep the decoded size.</summary>
    None,

    /// <summary>Scale so the shorter side equals the size, keeping the aspect ratio (torchvision <c>Resize(size)</c>).</summary>
    ShorterSide,

    /// <summary>Scale so the longer side equals the size, keeping the aspect ratio (cirtorch's <c>imsize</c> for retrieval at full resolution).</summary>
    LongerSide,

    /// <summary>Scale both sides to the size, ignoring the aspect ratio (torchvision <c>Resize((size, size))</c>).</summary>
    Square,
}
