namespace DeepRetrieval.Pooling;

/// <summary>One square R-MAC region of a feature map: rows Top..Top+Size−1, columns Left..Left+Size−1.</summary>
/// <param name="Top">First row.</param>
/// <param name="Left">First column.</param>
/// <param name="Size">Side length in locations.</param>
public readonly record struct RmacRegion(int Top, int Left, int Size);
