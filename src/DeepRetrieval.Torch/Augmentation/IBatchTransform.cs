using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Augmentation;

/// <summary>
/// A random augmentation of a whole batch of images, N × C × H × W floating point, on any device. Every random number is
/// drawn from the <see cref="Generator"/> passed to the call, so a trainer that checkpoints the generator's state
/// (<c>get_state</c>/<c>set_state</c>) replays exactly the same augmentations after a resume. Each sample gets its own
/// random parameters unless the transform documents otherwise.
/// </summary>
public interface IBatchTransform
{
    /// <summary>Augments the batch; the input is not modified.</summary>
    /// <param name="images">N × C × H × W floating-point images.</param>
    /// <param name="generator">The source of every random number; small draws are made on its device and moved to the images' device.</param>
    /// <returns>The augmented batch (the input itself when the transform decides to change nothing).</returns>
    /// <exception cref="ArgumentException">The images are not a 4-D floating-point tensor, or do not suit the transform.</exception>
    Tensor Apply(Tensor images, Generator generator);
}
