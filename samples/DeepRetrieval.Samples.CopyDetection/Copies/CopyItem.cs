using DeepRetrieval.Samples.CopyDetection.Photos;

namespace DeepRetrieval.Samples.CopyDetection.Copies;

/// <summary>One query of the benchmark: an edited copy of an original, stored as a JPEG in the cache.</summary>
/// <param name="Id">"original key/transform name", the query id of the ISC-style ground truth.</param>
/// <param name="Path">The JPEG file.</param>
/// <param name="Original">The photo it was made from (the one right answer among the references).</param>
/// <param name="Transform">The edit.</param>
internal sealed record CopyItem(string Id, string Path, Photo Original, CopyTransform Transform);
