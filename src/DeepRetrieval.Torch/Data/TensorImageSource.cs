using DeepRetrieval.Data;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Data;

/// <summary>
/// Images already in memory as one N × C × H × W tensor (for example Fashion-MNIST from IDX files, see <see cref="FromIdx"/>),
/// read as consecutive batches that are views of it. Ids default to 0 .. N − 1. A tensor passed to the constructor stays the
/// caller's: keep it alive (outside any dispose scope that ends earlier) while the source is used.
/// </summary>
public sealed class TensorImageSource : IImageBatchSource, IDisposable
{
    private readonly long[] _ids;
    private readonly long[]? _labels;
    private readonly bool _ownsImages;

    /// <summary>Wraps an image tensor.</summary>
    /// <param name="images">N × C × H × W floating-point images.</param>
    /// <param name="ids">One id per image; null for 0 .. N − 1.</param>
    /// <param name="labels">One class label per image; null for none.</param>
    /// <exception cref="ArgumentException">The tensor is not 4-D floating point, or ids/labels do not have N entries.</exception>
    public TensorImageSource(Tensor images, IReadOnlyList<long>? ids = null, IReadOnlyList<long>? labels = null)
        : this(images, ids, labels, ownsImages: false)
    {
    }

    private TensorImageSource(Tensor images, IReadOnlyList<long>? ids, IReadOnlyList<long>? labels, bool ownsImages)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 4 || !images.is_floating_point())
            throw new ArgumentException($"Images must be a floating-point N × C × H × W tensor; got {images.dtype} [{string.Join(", ", images.shape)}].", nameof(images));
        long count = images.shape[0];
        if (ids is not null && ids.Count != count)
            throw new ArgumentException($"Expected {count} ids, one per image; got {ids.Count}.", nameof(ids));
        if (labels is not null && labels.Count != count)
            throw new ArgumentException($"Expected {count} labels, one per image; got {labels.Count}.", nameof(labels));
        Images = images;
        _ids = ids?.ToArray() ?? Enumerable.Range(0, checked((int)count)).Select(i => (long)i).ToArray();
        _labels = labels?.ToArray();
        _ownsImages = ownsImages;
    }

    /// <summary>The N × C × H × W images.</summary>
    public Tensor Images { get; }

    /// <inheritdoc />
    public long Count => Images.shape[0];

    /// <summary>
    /// Converts grey IDX images (MNIST, Fashion-MNIST) into an N × 1 × rows × columns float tensor of
    /// <c>(pixel / 255 − mean) / std</c>, owned (and disposed) by the returned source.
    /// </summary>
    /// <param name="images">The IDX images.</param>
    /// <param name="labels">One class label per image; null for none.</param>
    /// <param name="mean">Mean subtracted after scaling to [0, 1] (Fashion-MNIST: 0.2860).</param>
    /// <param name="std">Standard deviation divided by (Fashion-MNIST: 0.3530).</param>
    /// <exception cref="ArgumentException">labels has the wrong length, or mean/std is not finite or std not positive.</exception>
    public static TensorImageSource FromIdx(IdxImages images, IReadOnlyList<long>? labels = null, float mean = 0f, float std = 1f)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (!float.IsFinite(mean))
            throw new ArgumentException($"mean must be finite; got {mean}.", nameof(mean));
        if (!(std > 0) || !float.IsFinite(std))
            throw new ArgumentException($"std must be positive and finite; got {std}.", nameof(std));
        if (labels is not null && labels.Count != images.Count)
            throw new ArgumentException($"Expected {images.Count} labels, one per image; got {labels.Count}.", nameof(labels));
        float[] pixels = images.ToFloat(1f / (255f * std), -mean / std);
        Tensor tensorImages = tensor(pixels, [images.Count, 1, images.Rows, images.Columns], ScalarType.Float32).DetachFromDisposeScope();
        return new TensorImageSource(tensorImages, null, labels, ownsImages: true);
    }

    /// <inheritdoc />
    public IEnumerable<ImageBatch> ReadBatches(int batchSize, IProgress<SkippedImage>? skipped = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        return ReadBatchesCore(batchSize, cancellationToken);
    }

    /// <summary>Disposes the image tensor when this source created it (<see cref="FromIdx"/>); a caller's tensor is left alone.</summary>
    public void Dispose()
    {
        if (_ownsImages)
            Images.Dispose();
    }

    private IEnumerable<ImageBatch> ReadBatchesCore(int batchSize, CancellationToken cancellationToken)
    {
        for (int start = 0; start < _ids.Length; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int length = Math.Min(batchSize, _ids.Length - start);
            yield return new ImageBatch(Images.narrow(0, start, length), _ids[start..(start + length)], _labels?[start..(start + length)]);
        }
    }
}
