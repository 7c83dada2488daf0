namespace DeepRetrieval.Imaging.Features;

/// <summary>How SIFT descriptors are scaled after the 4 × 4 × 8 histogram is built.</summary>
public enum SiftDescriptorNormalization
{
    /// <summary>
    /// OpenCV's: L2-normalise, clamp components at 0.2, renormalise, multiply by 512 and round with saturation to
    /// 0 … 255. Values are whole numbers, identical in the float and byte forms, compared by L2 distance.
    /// </summary>
    OpenCv,

    /// <summary>
    /// RootSIFT (Arandjelović &amp; Zisserman, CVPR 2012) of the OpenCV descriptor: divide by its L1 norm, then take the
    /// square root of each component. The result has unit L2 norm, and L2 distance between RootSIFT vectors equals the
    /// Hellinger kernel distance between the original histograms. Byte form: round(255 · value).
    /// </summary>
    RootSift,
}
