using DeepRetrieval.Imaging;

namespace DeepRetrieval.Samples.CopyDetection.Copies;

/// <summary>An edit that turns an original into a copy.</summary>
/// <param name="Name">Short name, used on the command line, in file names and in the per-transform table.</param>
/// <param name="Description">What the edit does, for the report.</param>
/// <param name="Apply">Makes the copy from the original with a seeded random source; returns the pixels and the JPEG quality to store them with.</param>
internal sealed record CopyTransform(string Name, string Description, Func<PixelImage, Random, TransformedCopy> Apply);

/// <summary>A copy's pixels and the JPEG quality it is written with (low for the re-encoding edit).</summary>
internal readonly record struct TransformedCopy(PixelImage Image, int JpegQuality);
