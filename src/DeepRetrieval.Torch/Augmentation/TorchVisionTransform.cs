using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Augmentation;

/// <summary>
/// Runs a TorchVision transform (<c>torchvision.transforms.*</c>, e.g. <c>ColorJitter</c>, <c>Grayscale</c>,
/// <c>GaussianBlur</c>) on the whole batch with probability p, the coin drawn from the call's generator. The TorchVision
/// transform sees the batch as one tensor, so its own random parameters (if any) are shared by every sample and come from
/// TorchSharp's global generator, not from the one passed here: only the p coin is reproducible through it.
/// </summary>
public sealed class TorchVisionTransform : IBatchTransform
{
    /// <summary>Wraps a TorchVision transform.</summary>
    /// <param name="transform">The transform; it receives and returns N × C × H × W tensors.</param>
    /// <param name="p">Probability that a batch is transformed.</param>
    /// <exception cref="ArgumentOutOfRangeException">p is not in [0, 1].</exception>
    public TorchVisionTransform(torchvision.ITransform transform, double p = 1.0)
    {
        ArgumentNullException.ThrowIfNull(transform);
        BatchInput.CheckProbability(p, nameof(p));
        Transform = transform;
        Probability = p;
    }

    /// <summary>The wrapped transform.</summary>
    public torchvision.ITransform Transform { get; }

    /// <summary>Probability that a batch is transformed.</summary>
    public double Probability { get; }

    /// <inheritdoc/>
    public Tensor Apply(Tensor images, Generator generator)
    {
        BatchInput.Check(images, generator);
        bool apply;
        using (var u = BatchInput.Uniform(generator, CPU, 1)) apply = u.item<double>() < Probability;
        return apply ? Transform.call(images) : images;
    }
}
