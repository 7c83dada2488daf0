using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Augmentation;

/// <summary>
/// CutMix (Yun et al., "CutMix: Regularization Strategy to Train Strong Classifiers with Localizable Features", ICCV 2019),
/// as in the paper's code: λ ~ Beta(α, α); one box for the whole batch with sides ⌊W·√(1 − λ)⌋ × ⌊H·√(1 − λ)⌋ centred on a
/// uniform pixel and clipped to the image; partners by a random permutation paste their box content; λ is then set to the
/// exact fraction of pixels that kept the original, <c>1 − box area / (H·W)</c>.
/// </summary>
public sealed class CutMix : IBatchMixer
{
    /// <summary>Creates the mixer.</summary>
    /// <param name="alpha">Beta concentration α &gt; 0 (the paper uses 1, λ uniform).</param>
    /// <exception cref="ArgumentOutOfRangeException">α is not positive and finite.</exception>
    public CutMix(double alpha = 1.0)
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
        long n = images.shape[0], height = images.shape[2], width = images.shape[3];
        double drawn = BatchInput.Beta(Alpha, generator);
        double cutRatio = Math.Sqrt(1 - drawn);
        long cutWidth = (long)(width * cutRatio), cutHeight = (long)(height * cutRatio);
        long centreX, centreY;
        using (Tensor u = BatchInput.Uniform(generator, CPU, 2))
        {
            centreX = Math.Min(width - 1, (long)(u[0].item<double>() * width));
            centreY = Math.Min(height - 1, (long)(u[1].item<double>() * height));
        }
        long left = Math.Clamp(centreX - cutWidth / 2, 0, width), right = Math.Clamp(centreX + cutWidth / 2, 0, width);
        long top = Math.Clamp(centreY - cutHeight / 2, 0, height), bottom = Math.Clamp(centreY + cutHeight / 2, 0, height);
        double lambda = 1 - (right - left) * (double)(bottom - top) / (width * (double)height);

        using var scope = NewDisposeScope();
        Tensor permutation = BatchInput.Permutation(generator, n, images.device);
        Tensor rows = arange(height, ScalarType.Int64, images.device).view(1, 1, -1, 1);
        Tensor columns = arange(width, ScalarType.Int64, images.device).view(1, 1, 1, -1);
        Tensor inBox = (rows >= top).logical_and(rows < bottom).logical_and(columns >= left).logical_and(columns < right);
        Tensor mixed = where(inBox, images.index_select(0, permutation), images);
        Tensor partners = labels.index_select(0, permutation.to(labels.device));
        return new MixedBatch(mixed.MoveToOuterDisposeScope(), labels, partners.MoveToOuterDisposeScope(), lambda);
    }
}
