using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Training;

/// <summary>
/// A labelled image set held in memory as one N × C × H × W tensor (uint8 pixels in 0..255, or floating point) and N int64
/// labels. A batch is gathered with one <c>index_select</c>, converted to float32 (uint8 divided by 255) and normalised per
/// channel with <see cref="Mean"/> and <see cref="Std"/>, so no C# code runs per image. The set keeps its own alias of the
/// tensors (outside any dispose scope) and releases it on <see cref="Dispose"/>.
/// </summary>
public sealed class TensorImageSet : IDisposable
{
    private readonly Tensor _images;
    private readonly Tensor _labels;
    private readonly Tensor? _mean;
    private readonly Tensor? _std;
    private readonly long[] _labelArray;

    /// <summary>Creates the set.</summary>
    /// <param name="images">N × C × H × W images, uint8 (0..255) or floating point (used as given, before normalisation).</param>
    /// <param name="labels">N integer class labels.</param>
    /// <param name="mean">Per-channel mean subtracted after scaling to [0, 1] (the backbone's <c>BackboneInfo.Mean</c>); null for none.</param>
    /// <param name="std">Per-channel standard deviation divided by; null for none.</param>
    /// <exception cref="ArgumentException">Shapes, types or lengths do not fit, the set is empty, or a std is not positive.</exception>
    public TensorImageSet(Tensor images, Tensor labels, IReadOnlyList<float>? mean = null, IReadOnlyList<float>? std = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        if (images.dim() != 4)
            throw new ArgumentException($"Images must be an N × C × H × W tensor; got shape [{string.Join(", ", images.shape)}].", nameof(images));
        if (images.dtype != ScalarType.Byte && !images.is_floating_point())
            throw new ArgumentException($"Images must be uint8 or floating point; got {images.dtype}.", nameof(images));
        if (images.shape[0] == 0) throw new ArgumentException("The image set is empty.", nameof(images));
        if (labels.dim() != 1 || labels.is_floating_point() || labels.dtype == ScalarType.Bool)
            throw new ArgumentException($"Labels must be a 1-D integer tensor; got {labels.dtype} of shape [{string.Join(", ", labels.shape)}].", nameof(labels));
        if (labels.shape[0] != images.shape[0])
            throw new ArgumentException($"There are {images.shape[0]} images but {labels.shape[0]} labels.", nameof(labels));
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
        _labels = labels.to(ScalarType.Int64).alias().DetachFromDisposeScope();
        _labelArray = _labels.cpu().data<long>().ToArray();
        Mean = mean?.ToArray();
        Std = std?.ToArray();
        if (Mean is not null) _mean = tensor(Mean.ToArray(), device: images.device).reshape(1, channels, 1, 1).DetachFromDisposeScope();
        if (Std is not null) _std = tensor(Std.ToArray(), device: images.device).reshape(1, channels, 1, 1).DetachFromDisposeScope();
    }

    /// <summary>Number of images, N.</summary>
    public long Count => _images.shape[0];

    /// <summary>Channels, height and width of one image.</summary>
    public (long Channels, long Height, long Width) ImageShape => (_images.shape[1], _images.shape[2], _images.shape[3]);

    /// <summary>The label of every image, in dataset order (what the samplers take).</summary>
    public IReadOnlyList<long> Labels => _labelArray;

    /// <summary>Per-channel mean, or null.</summary>
    public IReadOnlyList<float>? Mean { get; }

    /// <summary>Per-channel std, or null.</summary>
    public IReadOnlyList<float>? Std { get; }

    /// <summary>The device the images are on.</summary>
    public Device Device => _images.device;

    /// <summary>Gathers a batch: float32 normalised images and int64 labels. The result belongs to the caller's dispose scope.</summary>
    /// <param name="indices">1-D int64 dataset indices.</param>
    /// <exception cref="ArgumentException">indices is not a 1-D integer tensor.</exception>
    public (Tensor Images, Tensor Labels) Gather(Tensor indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        if (indices.dim() != 1 || indices.is_floating_point())
            throw new ArgumentException($"Indices must be a 1-D integer tensor; got {indices.dtype} of shape [{string.Join(", ", indices.shape)}].", nameof(indices));
        Tensor index = indices.to(ScalarType.Int64, _images.device);
        Tensor images = _images.index_select(0, index);
        images = images.dtype == ScalarType.Byte ? images.to(ScalarType.Float32).div_(255f) : images.to(ScalarType.Float32);
        if (_mean is not null) images = images.sub_(_mean);
        if (_std is not null) images = images.div_(_std);
        return (images, _labels.index_select(0, index));
    }

    /// <summary>Gathers a batch by managed indices.</summary>
    /// <param name="indices">Dataset indices.</param>
    /// <exception cref="ArgumentException">An index is outside the set.</exception>
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

    /// <summary>Consecutive batches of the whole set in order (for embedding and batch-norm passes).</summary>
    /// <param name="batchSize">Images per batch.</param>
    /// <exception cref="ArgumentOutOfRangeException">batchSize is not positive.</exception>
    public IEnumerable<(Tensor Images, Tensor Labels)> Batches(int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        for (long start = 0; start < Count; start += batchSize)
        {
            long length = Math.Min(batchSize, Count - start);
            yield return Gather(arange(start, start + length, dtype: ScalarType.Int64));
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _images.Dispose();
        _labels.Dispose();
        _mean?.Dispose();
        _std?.Dispose();
    }
}
