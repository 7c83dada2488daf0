namespace DeepRetrieval.Aggregation;

/// <summary>
/// Fisher vectors (Perronnin &amp; Dance, CVPR 2007; Sánchez, Perronnin, Mensink &amp; Verbeek, IJCV 2013): the
/// normalised gradient of an image's descriptors' log-likelihood under a diagonal <see cref="GaussianMixture"/>. With
/// posteriors γₜ(k) for the n descriptors xₜ,
/// <c>G_μ,k = (1 / (n √wₖ)) Σₜ γₜ(k) (xₜ − μₖ) / σₖ</c> and
/// <c>G_σ,k = (1 / (n √(2wₖ))) Σₜ γₜ(k) [(xₜ − μₖ)² / σₖ² − 1]</c>
/// (σₖ the standard deviations), laid out as all mean gradients (component by component) followed by all variance
/// gradients, then power- and L2-normalised as <see cref="FisherVectorOptions"/> says.
/// </summary>
/// <remarks>Thread-safe. An image without descriptors encodes to the zero vector.</remarks>
public sealed class FisherVectorEncoder
{
    /// <summary>Creates an encoder.</summary>
    /// <param name="mixture">The trained mixture (typically 64–256 components over PCA-reduced descriptors).</param>
    /// <param name="options">Gradients and normalisation; null for the improved Fisher vector.</param>
    /// <exception cref="ArgumentException">Neither gradient is selected, or the power is out of range.</exception>
    public FisherVectorEncoder(GaussianMixture mixture, FisherVectorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(mixture);
        options ??= new FisherVectorOptions();
        if (!options.Means && !options.Variances)
            throw new ArgumentException("Select the mean gradients, the variance gradients or both.", nameof(options));
        if (!(options.Power > 0 && options.Power <= 1))
            throw new ArgumentOutOfRangeException(nameof(options), options.Power, "The Fisher vector power must be in (0, 1].");
        Mixture = mixture;
        Options = options;
    }

    /// <summary>The mixture.</summary>
    public GaussianMixture Mixture { get; }

    /// <summary>The gradients and normalisation.</summary>
    public FisherVectorOptions Options { get; }

    /// <summary>Length of an encoded vector: K·d for each selected gradient.</summary>
    public int Length => Mixture.Components * Mixture.Dimension * ((Options.Means ? 1 : 0) + (Options.Variances ? 1 : 0));

    /// <summary>Encodes one image's descriptors.</summary>
    /// <param name="descriptors">Row-major n × d descriptors; may be empty.</param>
    /// <exception cref="ArgumentException">The descriptor length does not match the mixture, or a value is not finite.</exception>
    public float[] Encode(ReadOnlySpan<float> descriptors)
    {
        var result = new float[Length];
        Encode(descriptors, result);
        return result;
    }

    /// <summary>Encodes one image's descriptors into <paramref name="destination"/>.</summary>
    /// <param name="descriptors">Row-major n × d descriptors; may be empty.</param>
    /// <param name="destination">Receives <see cref="Length"/> values.</param>
    /// <exception cref="ArgumentException">The descriptor length does not match, the destination has the wrong size, or a value is not finite.</exception>
    public void Encode(ReadOnlySpan<float> descriptors, Span<float> destination)
    {
        if (destination.Length != Length)
            throw new ArgumentException($"The destination must hold {Length} values; got {destination.Length}.", nameof(destination));
        int d = Mixture.Dimension, k = Mixture.Components;
        if (descriptors.Length % d != 0)
            throw new ArgumentException($"The mixture has dimension {d}, which does not divide the {descriptors.Length} descriptor values: mixture/descriptor dimension mismatch.", nameof(descriptors));
        int n = descriptors.Length / d;
        destination.Clear();
        if (n == 0) return;
        float[] posteriors = Mixture.Posteriors(descriptors);
        // Per component: Σₜ γ u and Σₜ γ u² over the standardised deviations u = (x − μ) / σ, accumulated a vector at a
        // time in float (n terms of similar size), and Σₜ γ in double for the −1 term of the variance gradient.
        var meanSums = new float[k * d];
        var squareSums = new float[k * d];
        var gammaSums = new double[k];
        var deviation = new float[d];
        var inverseDeviation = new float[k * d];
        for (int i = 0; i < inverseDeviation.Length; i++) inverseDeviation[i] = 1f / MathF.Sqrt(Mixture.Variances[i]);
        for (int t = 0; t < n; t++)
        {
            ReadOnlySpan<float> x = descriptors.Slice(t * d, d);
            for (int c = 0; c < k; c++)
            {
                float gamma = posteriors[t * k + c];
                if (gamma == 0) continue;
                gammaSums[c] += gamma;
                System.Numerics.Tensors.TensorPrimitives.Subtract(x, Mixture.Means.AsSpan(c * d, d), deviation);
                System.Numerics.Tensors.TensorPrimitives.Multiply(deviation, inverseDeviation.AsSpan(c * d, d), deviation);
                Span<float> meanSum = meanSums.AsSpan(c * d, d), squareSum = squareSums.AsSpan(c * d, d);
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(deviation, gamma, meanSum, meanSum);
                System.Numerics.Tensors.TensorPrimitives.Multiply(deviation, deviation, deviation);
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(deviation, gamma, squareSum, squareSum);
            }
        }
        int offset = 0;
        if (Options.Means)
        {
            for (int c = 0; c < k; c++)
            {
                double scale = 1 / (n * Math.Sqrt(Mixture.Weights[c]));
                for (int j = 0; j < d; j++) destination[offset + c * d + j] = (float)(meanSums[c * d + j] * scale);
            }
            offset += k * d;
        }
        if (Options.Variances)
        {
            for (int c = 0; c < k; c++)
            {
                double scale = 1 / (n * Math.Sqrt(2 * Mixture.Weights[c]));
                for (int j = 0; j < d; j++) destination[offset + c * d + j] = (float)((squareSums[c * d + j] - gammaSums[c]) * scale);
            }
        }
        VladEncoder.Normalize(destination, Options.Power, 0, Options.L2Normalization);
    }
}
