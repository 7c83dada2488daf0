using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Augmentation;

/// <summary>Argument checks and random draws shared by the batch transforms.</summary>
internal static class BatchInput
{
    /// <summary>Throws unless <paramref name="images"/> is a 4-D floating-point tensor and a generator is given.</summary>
    public static void Check(Tensor images, Generator generator, string name = "images")
    {
        ArgumentNullException.ThrowIfNull(images, name);
        ArgumentNullException.ThrowIfNull(generator);
        if (images.dim() != 4)
            throw new ArgumentException($"Images must be a 4-D tensor (N × C × H × W); got shape [{string.Join(", ", images.shape)}].", name);
        if (!images.is_floating_point())
            throw new ArgumentException($"Images must be floating point; got {images.dtype}.", name);
    }

    /// <summary>Throws unless <paramref name="p"/> is a probability.</summary>
    public static void CheckProbability(double p, string name)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(name, p, "A probability must lie in [0, 1].");
    }

    /// <summary>Throws unless min ≤ max, both finite and within [lower, upper].</summary>
    public static void CheckRange(double min, double max, double lower, double upper, string name)
    {
        if (!double.IsFinite(min) || !double.IsFinite(max) || min > max || min < lower || max > upper)
            throw new ArgumentOutOfRangeException(name, $"({min}, {max})", $"The range must be finite, ordered and within [{lower}, {upper}].");
    }

    /// <summary>Uniform [0, 1) float64 values drawn on the generator's device, moved to <paramref name="device"/>.</summary>
    public static Tensor Uniform(Generator generator, Device device, params long[] shape) =>
        rand(shape, ScalarType.Float64, device: generator.device, generator: generator).to(device);

    /// <summary>Standard normal values of <paramref name="dtype"/> drawn on the generator's device, moved to <paramref name="device"/>.</summary>
    public static Tensor Normal(Generator generator, ScalarType dtype, Device device, params long[] shape) =>
        randn(shape, dtype, device: generator.device, generator: generator).to(device);

    /// <summary>One Beta(α, α) draw: the first component of a Dirichlet(α, α) sample.</summary>
    public static double Beta(double alpha, Generator generator)
    {
        using var scope = NewDisposeScope();
        Tensor concentration = tensor(new[] { alpha, alpha }, ScalarType.Float64).to(generator.device);
        return _sample_dirichlet(concentration, generator)[0].item<double>();
    }

    /// <summary>A random permutation of 0..n−1 drawn on the generator's device, moved to <paramref name="device"/>.</summary>
    public static Tensor Permutation(Generator generator, long n, Device device) =>
        randperm(n, ScalarType.Int64, device: generator.device, generator: generator).to(device);

    /// <summary>Per-sample Bernoulli(p) decisions as an N-element bool tensor on <paramref name="device"/>.</summary>
    public static Tensor Decide(Generator generator, long n, double p, Device device)
    {
        // Always consume the draw, so the stream position does not depend on p.
        Tensor u = Uniform(generator, device, n);
        return u < p;
    }
}
