using DeepRetrieval.Imaging;
using DeepRetrieval.Imaging.Processing;

namespace DeepRetrieval.Torch.Augmentation;

/// <summary>
/// Mirrors one decoded image left–right with probability p (torchvision <c>RandomHorizontalFlip</c> on a PIL image). Always
/// draws one number, so the draws of later augmentations do not depend on p. <see cref="RandomHorizontalFlip"/> is the batch
/// version for tensors.
/// </summary>
public sealed class ImageRandomHorizontalFlip : IImageAugmentation
{
    /// <summary>Creates the augmentation.</summary>
    /// <param name="p">Probability that an image is flipped.</param>
    /// <exception cref="ArgumentOutOfRangeException">p is not in [0, 1].</exception>
    public ImageRandomHorizontalFlip(double p = 0.5)
    {
        BatchInput.CheckProbability(p, nameof(p));
        Probability = p;
    }

    /// <summary>Probability that an image is flipped.</summary>
    public double Probability { get; }

    /// <inheritdoc/>
    public PixelImage Apply(PixelImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        return random.NextDouble() < Probability ? image.FlipHorizontal() : image;
    }
}
