using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Augmentation;

/// <summary>
/// Adds zero-mean Gaussian noise of standard deviation σ to every pixel and channel, to each sample with probability p.
/// σ is in the units of the images (e.g. 0.05 for images in [0, 1]); the result is not clamped.
/// </summary>
public sealed class GaussianNoise : IBatchTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="sigma">Standard deviation of the noise; non-negative and finite.</param>
    /// <param name="p">Probability that a sample gets noise.</param>
    /// <exception cref="ArgumentOutOfRangeException">σ is negative or not finite, or p is not a probability.</exception>
    public GaussianNoise(double sigma, double p = 1.0)
    {
        if (!(sigma >= 0) || double.IsInfinity(sigma)) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "The noise standard deviation must be non-negative and finite.");
        BatchInput.CheckProbability(p, nameof(p));
        Sigma = sigma;
        Probability = p;
    }

    /// <summary>Standard deviation of the noise.</summary>
    public double Sigma { get; }

    /// <summary>Probability that a sample gets noise.</summary>
    public double Probability { get; }

    /// <inheritdoc/>
    public Tensor Apply(Tensor images, Generator generator)
    {
        BatchInput.Check(images, generator);
        using var scope = NewDisposeScope();
        Tensor apply = BatchInput.Decide(generator, images.shape[0], Probability, images.device).view(-1, 1, 1, 1);
        Tensor noise = BatchInput.Normal(generator, images.dtype, images.device, images.shape) * Sigma;
        return (images + noise * apply).MoveToOuterDisposeScope();
    }
}
