using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Pooling;

/// <summary>Argument checks shared by the pooling layers, so every layer rejects bad maps with the same words.</summary>
internal static class FeatureMaps
{
    /// <summary>Throws unless <paramref name="maps"/> is a floating-point N × C × H × W tensor with non-empty spatial extent.</summary>
    public static void Check(Tensor maps, string name)
    {
        ArgumentNullException.ThrowIfNull(maps, name);
        if (maps.dim() != 4)
            throw new ArgumentException($"Feature maps must be a 4-D tensor (N × C × H × W); got shape [{string.Join(", ", maps.shape)}].", name);
        if (!maps.is_floating_point())
            throw new ArgumentException($"Feature maps must be floating point; got {maps.dtype}.", name);
        if (maps.shape[2] == 0 || maps.shape[3] == 0)
            throw new ArgumentException($"Feature maps must have at least one location; got shape [{string.Join(", ", maps.shape)}].", name);
    }

    /// <summary>Throws unless two maps can be pooled together: same batch size and same spatial size.</summary>
    public static void CheckPair(Tensor first, Tensor second, string firstName, string secondName)
    {
        Check(first, firstName);
        Check(second, secondName);
        if (first.shape[0] != second.shape[0] || first.shape[2] != second.shape[2] || first.shape[3] != second.shape[3])
            throw new ArgumentException(
                $"Both feature maps need the same batch size and spatial size; got [{string.Join(", ", first.shape)}] and [{string.Join(", ", second.shape)}].",
                secondName);
    }

    /// <summary>
    /// The signed square root sign(z)·(√(|z| + ε) − √ε), the "power normalisation" of bilinear features. The ε keeps the
    /// gradient finite at 0 (1 / (2√ε)); subtracting √ε keeps the function continuous there, so a component that is zero up to
    /// round-off (an empty compact-bilinear bucket after the FFTs) stays near zero instead of flipping between ±√ε.
    /// </summary>
    public static Tensor SignedSquareRoot(Tensor values, double epsilon) => values.sign() * ((values.abs() + epsilon).sqrt() - Math.Sqrt(epsilon));
}
