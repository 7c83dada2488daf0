using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Augmentation;

/// <summary>
/// Runs a TorchVision transform (<c>torchvision.transforms.*</c>, e.g. <c>ColorJitter</c>, <c>Grayscale</c>,
/// <c>GaussianBlur</c>) on each sample independently, with probability p, with every random number coming from the
/// generator passed to <see cref="Apply"/>. TorchVision transforms draw their parameters from torch's global generator; so for
/// each sample the call first draws, from its own generator, the sample's coin and a 62-bit seed, then reseeds the global
/// generator with that seed right before transforming the sample alone. Each sample thus gets its own parameters (a
/// ColorJitter draws one brightness per image, not one per batch), and the same generator state reproduces every draw.
/// The global CPU generator's state is saved before and restored after the call, so code that uses it is not disturbed
/// (other threads drawing from it during the call would be). The wrapped transform must keep each sample's shape.
/// </summary>
public sealed class TorchVisionTransform : IBatchTransform
{
    /// <summary>Wraps a TorchVision transform.</summary>
    /// <param name="transform">The transform; it receives and returns 1 × C × H × W tensors of the same shape.</param>
    /// <param name="p">Probability that a sample is transformed.</param>
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

    /// <summary>Probability that a sample is transformed.</summary>
    public double Probability { get; }

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">The wrapped transform changed a sample's shape.</exception>
    public Tensor Apply(Tensor images, Generator generator)
    {
        BatchInput.Check(images, generator);
        long n = images.shape[0];
        bool[] apply;
        long[] seeds;
        using (var scope = NewDisposeScope())
        {
            // Both draws are always made, so the generator advances the same way whatever p and the coins are.
            apply = BatchInput.Decide(generator, n, Probability, CPU).data<bool>().ToArray();
            seeds = randint(0, 1L << 62, [n], ScalarType.Int64, generator.device, generator: generator).cpu().data<long>().ToArray();
        }
        if (!apply.Contains(true))
            return images;
        using var outer = NewDisposeScope();
        Tensor saved = random.get_rng_state();
        try
        {
            var samples = new Tensor[n];
            for (long i = 0; i < n; i++)
            {
                Tensor sample = images.narrow(0, i, 1);
                if (apply[i])
                {
                    random.manual_seed(seeds[i]);
                    Tensor transformed = Transform.call(sample);
                    if (!transformed.shape.SequenceEqual(sample.shape))
                        throw new InvalidOperationException(
                            $"The wrapped transform turned a [{string.Join(", ", sample.shape)}] sample into [{string.Join(", ", transformed.shape)}]; TorchVisionTransform needs transforms that keep the shape.");
                    sample = transformed;
                }
                samples[i] = sample;
            }
            return cat(samples, 0).MoveToOuterDisposeScope();
        }
        finally
        {
            random.set_rng_state(saved);
        }
    }
}
