using DeepRetrieval.Imaging;

namespace DeepRetrieval.Torch.Augmentation;

/// <summary>
/// A random augmentation of one decoded image (8-bit pixels), run by an <see cref="Data.ImageFileSet"/> on its decoding
/// threads before the image becomes floats: the place for transforms that need the image at its own size, such as a random
/// resized crop. Every random number must come from the <see cref="Random"/> passed in, which the set seeds from (seed, epoch,
/// position of the sample in the epoch), so a sample gets the same draws whatever the thread count, the timing or a resume.
/// Implementations must be thread-safe (one instance serves every thread) and must not modify the input image (it may be
/// cached and reused next epoch).
/// </summary>
public interface IImageAugmentation
{
    /// <summary>Augments one image.</summary>
    /// <param name="image">The preprocessed image; not to be modified.</param>
    /// <param name="random">This sample's generator; draw every random number from it.</param>
    /// <returns>A new image, or the input itself when the augmentation decides to change nothing.</returns>
    PixelImage Apply(PixelImage image, Random random);
}
