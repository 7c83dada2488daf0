using DeepRetrieval.Data;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Data;

/// <summary>
/// Images held in memory as one N × C × H × W tensor (uint8 pixels in 0..255, or floating point), with optional ids
/// (default 0 .. N − 1) and optional int64 class labels. A batch is gathered with one <c>index_select</c> (training) or read
/// as a slice (<see cref="ReadBatches"/>, extraction), converted to float32 (uint8 divided by 255) and normalised per channel
/// with <see cref="Mean"/> and <see cref="Std"/>, so no C# code runs per image and uint8 sets are never copied whole to float.
/// The set keeps its own alias of the tensors (outside any dispose scope) and releases it on <see cref="Dispose"/>; the
/// caller's tensors stay the caller's.
/// </summary>
public sealed class TensorImageSet : ITrainingImageSource, IDisposable
{
    private readonly Tensor _images;
    private readonly Tensor? _labels;
    private readonly Tensor? _mean;
    private readonly Tensor? _std;
    private readonly long[]? _labelArray;
    private readonly long[] _ids;

    /// <summary>Creates the set.</summary>
    /// <param name="images">N × C × H × W images, uint8 (0..255) or floating point (used as given, before normalisation).</param>
    /// <param name="labels">N integer class labels; null for none (extraction only: the trainer needs labels).</param>
    /// <param name="mean">Per-channel mean subtracted after scaling to [0, 1] (the backbone's <c>BackboneInfo.Mean</c>); null for none.</param>
    /// <param name="std">Per-channel standard deviation divided by; null for none.</param>
    /// <param name="ids">One id per image (what extraction reports and indexes store); null for 0 .. N − 1.</param>
    /// <exception cref="ArgumentException">Shapes, types or lengths do not fit, the set is empty, or a std is not positive.</exception>
    public TensorImageSet(Tensor images, Tensor? labels = null, IReadOnlyList<float>? mean = null, IReadOnlyList<float>? std = null,
        IReadOnlyList<long>? ids = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 4)
            throw new ArgumentException($"Images must be an N × C × H × W tensor; got shape [{string.Join(", ", images.shape)}].", nameof(images));
        if (images.dtype != ScalarType.Byte && !images.is_floating_point())
            throw new ArgumentException($"Images must be uint8 or floating point; got {images.dtype}.", nameof(images));
        long count = images.shape[0];
        if (count == 0) throw new ArgumentException("The image set is empty.", nameof(images));
        if (labels is not null && (labels.dim() != 1 || labels.is_floating_point() || labels.dtype == ScalarType.Bool))
            throw new ArgumentException($"Labels must be a 1-D integer tensor; got {labels.dtype} of shape [{string.Join(", ", labels.shape)}].", nameof(labels));
        if (labels is not null && labels.shape[0] != count)
            throw new ArgumentException($"There are {count} images but {labels.shape[0]} labels.", nameof(labels));
        if (ids is not null && ids.Count != count)
            throw new ArgumentException($"Expected {count} ids, one per image; got {ids.Count}.", nameof(ids));
        int channels = (int)images.shape[1];
        if (mean is not null && mean.Count != channels)
            throw new ArgumentException($"The images have {channels} channels but the mean has {mean.Count} values.", nameof(mean));
        if (std is not null && std.Count != channels)
            throw new ArgumentException($"The images have {channels} channels but the std has {std.Count} values.", nameof(std));
        if (std is not null && std.Any(s => !(s > 0) || float.IsInfinity(s)))
            throw new ArgumentException("Every std must be positive and finite.", nameof(std));
        if (mean is not null && mean.Any(m => !float.IsFinite(m)))
            throw new ArgumentException("Every mean must be finite.", nameof(mean));

        _images = images.alias().DetachFromDisposeScope();
        if (labels is not null)
        {
            _labels = labels.to(ScalarType.Int64).alias().DetachFromDisposeScope();
            _labelArray = _labels.cpu().data<long>().ToArray();
        }
        _ids = ids?.ToArray() ?? Enumerable.Range(0, checked((int)count)).Select(i => (long)i).ToArray();
        Mean = mean?.ToArray();
        Std = std?.ToArray();
        if (Mean is not null) _mean = tensor(Mean.ToArray(), device: images.device).reshape(1, channels, 1, 1).DetachFromDisposeScope();
        if (Std is not null) _std = tensor(Std.ToArray(), device: images.device).reshape(1, channels, 1, 1).DetachFromDisposeScope();
    }

    /// <summary>
    /// Wraps grey IDX images (MNIST, Fashion-MNIST) as an N × 1 × rows × columns uint8 set whose batches are
    /// <c>(pixel / 255 − mean) / std</c>; the pixels stay uint8 (no float copy of the whole set).
    /// </summary>
    /// <param name="images">The IDX images.</param>
    /// <param name="labels">One class label per image; null for none.</param>
    /// <param name="mean">Mean subtracted after scaling to [0, 1] (Fashion-MNIST: 0.2860).</param>
    /// <param name="std">Standard deviation divided by (Fashion-MNIST: 0.3530).</param>
    /// <exception cref="ArgumentException">labels has the wrong length, or mean/std is not finite or std not positive.</exception>
    public static TensorImageSet FromIdx(IdxImages images, IReadOnlyList<long>? labels = null, float mean = 0f, float std = 1f)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (!float.IsFinite(mean))
            throw new ArgumentException($"mean must be finite; got {mean}.", nameof(mean));
        if (!(std > 0) || !float.IsFinite(std))
            throw new ArgumentException($"std must be positive and finite; got {std}.", nameof(std));
        if (labels is not null && labels.Count != images.Count)
            throw new ArgumentException($"Expected {images.Count} labels, one per image; got {labels.Count}.", nameof(labels));
        using var scope = NewDisposeScope();
        Tensor pixels = tensor(images.Pixels, [images.Count, 1, images.Rows, images.Columns], ScalarType.Byte);
        Tensor? labelTensor = labels is null ? null : tensor(labels as long[] ?? labels.ToArray());
        return new TensorImageSet(pixels, labelTensor, mean == 0f ? null : [mean], std == 1f ? null : [std]);
    }

    /// <inheritdoc />
    public long Count => _images.shape[0];

    /// <summary>Channels, height and width of one image.</summary>
    public (long Channels, long Height, long Width) ImageShape => (_images.shape[1], _images.shape[2], _images.shape[3]);

    /// <summary>The id of every image, in dataset order.</summary>
    public IReadOnlyList<long> Ids => _ids;

    /// <inheritdoc />
    public IReadOnlyList<long>? Labels => _labelArray;

    /// <summary>Per-channel mean, or null.</summary>
    public IReadOnlyList<float>? Mean { get; }

    /// <summary>Per-channel std, or null.</summary>
    public IReadOnlyList<float>? Std { get; }

    /// <summary>The device the images are on.</summary>
    public Device Device => _images.device;

    /// <summary>Gathers a batch: float32 normalised images and int64 labels. The result belongs to the caller's dispose scope.</summary>
    /// <param name="indices">1-D int64 dataset indices.</param>
    /// <exception cref="ArgumentException">indices is not a 1-D integer tensor.</exception>
    /// <exception cref="InvalidOperationException">The set has no labels.</exception>
    public (Tensor Images, Tensor Labels) Gather(Tensor indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        if (indices.dim() != 1 || indices.is_floating_point())
            throw new ArgumentException($"Indices must be a 1-D integer tensor; got {indices.dtype} of shape [{string.Join(", ", indices.shape)}].", nameof(indices));
        if (_labels is null) throw new InvalidOperationException("The image set has no labels to gather.");
        Tensor index = indices.to(ScalarType.Int64, _images.device);
        return (Normalize(_images.index_select(0, index), isCopy: true), _labels.index_select(0, index));
    }

    /// <summary>Gathers a batch by managed indices.</summary>
    /// <param name="indices">Dataset indices.</param>
    /// <exception cref="ArgumentException">An index is outside the set.</exception>
    /// <exception cref="InvalidOperationException">The set has no labels.</exception>
    public (Tensor Images, Tensor Labels) Gather(long[] indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        foreach (long i in indices)
        {
            if ((ulong)i >= (ulong)Count)
                throw new ArgumentException($"Index {i} is outside the set of {Count} images.", nameof(indices));
        }
        return Gather(tensor(indices));
    }

    /// <summary>Consecutive batches of the whole set in order (float32, normalised), with their ids and labels (when the set has them).</summary>
    /// <param name="batchSize">Images per batch.</param>
    /// <param name="skipped">Unused: every image of a tensor is readable.</param>
    /// <param name="cancellationToken">Stops the enumeration.</param>
    /// <exception cref="ArgumentOutOfRangeException">batchSize is not positive.</exception>
    public IEnumerable<ImageBatch> ReadBatches(int batchSize, IProgress<SkippedImage>? skipped = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        return ReadBatchesCore(batchSize, cancellationToken);
    }

    /// <summary>
    /// Gathers the given batches lazily, one <see cref="Gather(long[])"/> per batch, with their ids and labels. A tensor set
    /// has no per-sample augmentation (the trainer's <c>BatchTransform</c> augments its batches), so the seed and epoch are unused.
    /// </summary>
    /// <param name="batches">Indices per batch.</param>
    /// <param name="seed">Unused.</param>
    /// <param name="epoch">Unused.</param>
    /// <param name="skipped">Unused: every image of a tensor is readable.</param>
    /// <param name="cancellationToken">Stops the enumeration.</param>
    /// <exception cref="ArgumentException">An index is outside the set, or a batch is null.</exception>
    /// <exception cref="InvalidOperationException">The set has no labels.</exception>
    public IEnumerable<ImageBatch> ReadTrainingBatches(IReadOnlyList<long[]> batches, long seed, int epoch, IProgress<SkippedImage>? skipped = null,
        CancellationToken cancellationToken = default)
    {
        BatchIndices.Check(batches, Count, nameof(batches));
        if (_labels is null) throw new InvalidOperationException("The image set has no labels to train on.");
        return GatherBatches(batches, cancellationToken);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _images.Dispose();
        _labels?.Dispose();
        _mean?.Dispose();
        _std?.Dispose();
    }

    private IEnumerable<ImageBatch> ReadBatchesCore(int batchSize, CancellationToken cancellationToken)
    {
        for (int start = 0; start < _ids.Length; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int length = Math.Min(batchSize, _ids.Length - start);
            yield return new ImageBatch(Normalize(_images.narrow(0, start, length), isCopy: false), _ids[start..(start + length)],
                _labelArray?[start..(start + length)]);
        }
    }

    private IEnumerable<ImageBatch> GatherBatches(IReadOnlyList<long[]> batches, CancellationToken cancellationToken)
    {
        foreach (long[] batch in batches)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (batch.Length == 0) continue;
            var (images, labels) = Gather(batch);
            labels.Dispose();
            yield return new ImageBatch(images, batch.Select(i => _ids[i]).ToArray(), batch.Select(i => _labelArray![i]).ToArray());
        }
    }

    // A slice shares the set's storage, so it is only changed in place once a conversion or a gather has copied it.
    private Tensor Normalize(Tensor images, bool isCopy)
    {
        bool owned = isCopy || images.dtype != ScalarType.Float32;
        Tensor result = images.dtype == ScalarType.Byte ? images.to(ScalarType.Float32).div_(255f) : images.to(ScalarType.Float32);
        if (_mean is not null)
        {
            result = owned ? result.sub_(_mean) : result.sub(_mean);
            owned = true;
        }
        if (_std is not null) result = owned ? result.div_(_std) : result.div(_std);
        return result;
    }
}
