using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Heads;

/// <summary>
/// A learned linear embedding layer, <c>y = W x (+ b)</c>, optionally L2-normalised: the usual "embedding head" on top of a
/// pooled backbone (PML's examples, cirtorch's learned whitening <c>Linear(dim, dim, bias=True)</c>). N × in in, N × out out.
/// The inner layer is named <c>linear</c>, so its state-dict keys are <c>linear.weight</c> and <c>linear.bias</c>.
/// </summary>
public sealed class LinearProjection : nn.Module<Tensor, Tensor>
{
    private readonly Linear linear;

    /// <summary>Creates the layer with PyTorch's default <c>nn.Linear</c> initialisation.</summary>
    /// <param name="inputFeatures">Input width.</param>
    /// <param name="outputFeatures">Output width (the embedding dimension).</param>
    /// <param name="bias">Learn an additive bias.</param>
    /// <param name="normalize">L2-normalise the output rows.</param>
    /// <exception cref="ArgumentOutOfRangeException">A width is not positive.</exception>
    public LinearProjection(int inputFeatures, int outputFeatures, bool bias = true, bool normalize = false) : base(nameof(LinearProjection))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputFeatures);
        InputFeatures = inputFeatures;
        OutputFeatures = outputFeatures;
        Normalize = normalize;
        linear = nn.Linear(inputFeatures, outputFeatures, hasBias: bias);
        RegisterComponents();
    }

    /// <summary>Input width.</summary>
    public int InputFeatures { get; }

    /// <summary>Output width.</summary>
    public int OutputFeatures { get; }

    /// <summary>Whether output rows are L2-normalised.</summary>
    public bool Normalize { get; }

    /// <summary>The inner linear layer (its weight is out × in, as in PyTorch).</summary>
    public Linear Linear => linear;

    /// <summary>Projects (and optionally normalises) each row.</summary>
    /// <param name="features">N × in floating-point features.</param>
    /// <returns>N × out embeddings.</returns>
    /// <exception cref="ArgumentException">The input is not 2-D floating point with the expected width.</exception>
    public override Tensor forward(Tensor features)
    {
        HeadInput.Check(features, nameof(features), InputFeatures);
        Tensor projected = linear.forward(features);
        return Normalize ? nn.functional.normalize(projected, p: 2, dim: 1) : projected;
    }
}
