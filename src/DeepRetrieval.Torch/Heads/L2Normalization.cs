using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Heads;

/// <summary>
/// Scales every row to unit L2 length, <c>y = x / max(‖x‖₂, ε)</c> (PyTorch <c>F.normalize(x, p=2, dim=1)</c>, cirtorch <c>L2N</c>):
/// the last layer of a retrieval network, so that cosine similarity is a dot product. N × D in, N × D out.
/// </summary>
public sealed class L2Normalization : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    /// <param name="epsilon">Lower bound on the norm, so an all-zero row maps to zero rather than NaN.</param>
    /// <exception cref="ArgumentOutOfRangeException">epsilon is not positive and finite.</exception>
    public L2Normalization(double epsilon = 1e-12) : base(nameof(L2Normalization))
    {
        if (!(epsilon > 0) || double.IsInfinity(epsilon))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Epsilon must be positive and finite.");
        Epsilon = epsilon;
    }

    /// <summary>Lower bound on the norm.</summary>
    public double Epsilon { get; }

    /// <summary>Normalises each row.</summary>
    /// <param name="features">N × D floating-point features.</param>
    /// <returns>N × D unit rows (zero rows stay zero).</returns>
    /// <exception cref="ArgumentException">The input is not a 2-D floating-point tensor.</exception>
    public override Tensor forward(Tensor features)
    {
        HeadInput.Check(features, nameof(features));
        return nn.functional.normalize(features, p: 2, dim: 1, eps: Epsilon);
    }
}
