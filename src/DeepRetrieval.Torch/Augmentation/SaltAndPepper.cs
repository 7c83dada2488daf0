using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Augmentation;

/// <summary>
/// Salt-and-pepper (impulse) noise: each pixel position is corrupted with probability <c>amount</c>, in all channels at once;
/// a corrupted pixel becomes <c>salt</c> (white) with probability <c>saltRatio</c> and <c>pepper</c> (black) otherwise
/// (scikit-image's <c>random_noise(mode='s&amp;p', amount, salt_vs_pepper)</c>, per pixel rather than per channel value).
/// Salt and pepper default to 1 and 0, the range of unnormalised images; pass the normalised extremes otherwise.
/// </summary>
public sealed class SaltAndPepper : IBatchTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="amount">Fraction of pixels corrupted.</param>
    /// <param name="saltRatio">Fraction of corrupted pixels that become salt.</param>
    /// <param name="salt">Value written for salt.</param>
    /// <param name="pepper">Value written for pepper.</param>
    /// <exception cref="ArgumentOutOfRangeException">amount or saltRatio is not in [0, 1], or a value is not finite.</exception>
    public SaltAndPepper(double amount = 0.05, double saltRatio = 0.5, double salt = 1.0, double pepper = 0.0)
    {
        BatchInput.CheckProbability(amount, nameof(amount));
        BatchInput.CheckProbability(saltRatio, nameof(saltRatio));
        if (!double.IsFinite(salt)) throw new ArgumentOutOfRangeException(nameof(salt), salt, "The salt value must be finite.");
        if (!double.IsFinite(pepper)) throw new ArgumentOutOfRangeException(nameof(pepper), pepper, "The pepper value must be finite.");
        Amount = amount;
        SaltRatio = saltRatio;
        Salt = salt;
        Pepper = pepper;
    }

    /// <summary>Fraction of pixels corrupted.</summary>
    public double Amount { get; }

    /// <summary>Fraction of corrupted pixels that become salt.</summary>
    public double SaltRatio { get; }

    /// <summary>Value written for salt.</summary>
    public double Salt { get; }

    /// <summary>Value written for pepper.</summary>
    public double Pepper { get; }

    /// <inheritdoc/>
    public Tensor Apply(Tensor images, Generator generator)
    {
        BatchInput.Check(images, generator);
        using var scope = NewDisposeScope();
        long n = images.shape[0], height = images.shape[2], width = images.shape[3];
        Tensor corrupt = BatchInput.Uniform(generator, images.device, n, 1, height, width) < Amount;
        Tensor salty = BatchInput.Uniform(generator, images.device, n, 1, height, width) < SaltRatio;
        Tensor impulse = where(salty, Salt, Pepper).to(images.dtype);
        return where(corrupt, impulse, images).MoveToOuterDisposeScope();
    }
}
