using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Data;

/// <summary>
/// A batch of images from an <see cref="IImageBatchSource"/>: an N × C × H × W float tensor and the id (and label, when known)
/// of each row. The tensor is created in the caller's dispose scope.
/// </summary>
/// <param name="Images">N × C × H × W images.</param>
/// <param name="Ids">One id per image.</param>
/// <param name="Labels">One class label per image, or null when the source has none.</param>
public sealed record ImageBatch(Tensor Images, long[] Ids, long[]? Labels);
