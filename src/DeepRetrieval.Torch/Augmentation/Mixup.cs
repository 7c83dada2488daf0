using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Augmentation;

/// <summary>
/// Mixup (Zhang et al., "mixup: Beyond Empirical Risk Minimization", ICLR 2018): λ ~ Beta(α, α), one λ for the whole batch
/// as in the paper's code, partners by a random permutation, <c>x̃ = λ·x + (1 − λ)·x[perm]</c>.
/// </summary>
public sealed class Mixup : IBatchMixer
{
    /// <summary>Creates the mixer.</summary>
    /// <param name="alpha">Beta concentration α &gt; 0 (the paper uses 0.1–0.4 on ImageNet; 1 gives λ uniform).</param>
    /// <exception cref="ArgumentOutOfRangeException">α is not positive and finite.</exception>
    public Mixup(double alpha = 0.2)
    {
        if (!(alpha > 0) || double.IsInfinity(alpha)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "The Beta concentration α must be positive and finite.");
        Alpha = alpha;
    }

    /// <summary>Beta concentration α.</summary>
    public double Alpha { get; }

    /// <inheritdoc/>
    public MixedBatch Apply(Tensor images, Tensor labels, Generator generator)
    {
        MixerInput.Check(images, labels, generator);
        double lambda = BatchInput.Beta(Alpha, generator);
        using var scope = NewDisposeScope();
        Tensor permutation = BatchInput.Permutation(generator, images.shape[0], images.device);
        Tensor mixed = images * lambda + images.index_select(0, permutation) * (1 - lambda);
        Tensor partners = labels.index_select(0, permutation.to(labels.device));
        return new MixedBatch(mixed.MoveToOuterDisposeScope(), labels, partners.MoveToOuterDisposeScope(), lambda);
    }
}
