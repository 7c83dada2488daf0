using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Augmentation;

/// <summary>Mirrors each image left–right with probability p, independently per sample (torchvision <c>RandomHorizontalFlip</c>).</summary>
public sealed class RandomHorizontalFlip : IBatchTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="p">Probability that a sample is flipped.</param>
    /// <exception cref="ArgumentOutOfRangeException">p is not in [0, 1].</exception>
    public RandomHorizontalFlip(double p = 0.5)
    {
        BatchInput.CheckProbability(p, nameof(p));
        Probability = p;
    }

    /// <summary>Probability that a sample is flipped.</summary>
    public double Probability { get; }

    /// <inheritdoc/>
    public Tensor Apply(Tensor images, Generator generator)
    {
        BatchInput.Check(images, generator);
        using var scope = NewDisposeScope();
        Tensor flip = BatchInput.Decide(generator, images.shape[0], Probability, images.device).view(-1, 1, 1, 1);
        return where(flip, images.flip(3), images).MoveToOuterDisposeScope();
    }
}
