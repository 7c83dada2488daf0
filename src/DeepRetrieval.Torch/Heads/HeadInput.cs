using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Heads;

/// <summary>Argument checks shared by the heads.</summary>
internal static class HeadInput
{
    /// <summary>Throws unless <paramref name="features"/> is a 2-D floating-point tensor, with <paramref name="width"/> columns when given.</summary>
    public static void Check(Tensor features, string name, long? width = null)
    {
        ArgumentNullException.ThrowIfNull(features, name);
        if (features.dim() != 2)
            throw new ArgumentException($"Features must be a 2-D tensor (N × D); got shape [{string.Join(", ", features.shape)}].", name);
        if (!features.is_floating_point())
            throw new ArgumentException($"Features must be floating point; got {features.dtype}.", name);
        if (width is long expected && features.shape[1] != expected)
            throw new ArgumentException($"Features must have {expected} components; got {features.shape[1]}.", name);
    }
}
