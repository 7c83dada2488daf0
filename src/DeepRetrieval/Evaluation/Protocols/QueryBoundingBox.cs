namespace DeepRetrieval.Evaluation.Protocols;

/// <summary>
/// The query region of an Oxford/Paris query, in pixels of the full image: left, top, right, bottom, as floats
/// (the ground truth gives fractional coordinates).
/// </summary>
/// <param name="Left">x1.</param>
/// <param name="Top">y1.</param>
/// <param name="Right">x2.</param>
/// <param name="Bottom">y2.</param>
public readonly record struct QueryBoundingBox(double Left, double Top, double Right, double Bottom)
{
    /// <summary>
    /// The integer crop PIL's <c>Image.crop(bbx)</c> takes, which revisitop's examples and cirtorch use: each coordinate
    /// rounded half to even (Python's <c>round</c>); the crop covers columns [x0, x1) and rows [y0, y1).
    /// </summary>
    public (int X0, int Y0, int X1, int Y1) ToPixelCrop() =>
        ((int)Math.Round(Left, MidpointRounding.ToEven), (int)Math.Round(Top, MidpointRounding.ToEven),
         (int)Math.Round(Right, MidpointRounding.ToEven), (int)Math.Round(Bottom, MidpointRounding.ToEven));
}
