using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Augmentation;

/// <summary>A batch augmentation that mixes pairs of samples and therefore their labels (Mixup, CutMix).</summary>
public interface IBatchMixer
{
    /// <summary>Mixes the batch; the inputs are not modified.</summary>
    /// <param name="images">N × C × H × W floating-point images.</param>
    /// <param name="labels">Labels with N rows (class indices, or one-hot / soft rows).</param>
    /// <param name="generator">The source of every random number.</param>
    /// <exception cref="ArgumentException">The images are not 4-D floating point, or the label count differs from N.</exception>
    MixedBatch Apply(Tensor images, Tensor labels, Generator generator);
}
