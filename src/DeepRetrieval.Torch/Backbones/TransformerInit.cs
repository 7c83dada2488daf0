using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>timm's transformer initialisation: truncated normal (std 0.02) weights and zero biases for linear layers.</summary>
internal static class TransformerInit
{
    public const double Std = 0.02;

    public static Linear Linear(int input, int output, bool bias = true)
    {
        // Built from its parameters so the weights are drawn once, not first by nn.Linear's own initialisation.
        var weight = TruncatedNormal([output, input]);
        Parameter? biasParameter = bias ? new Parameter(zeros(output, ScalarType.Float32).DetachFromDisposeScope(), requires_grad: true) : null;
        return nn.Linear(weight, biasParameter);
    }

    /// <summary>A parameter detached from any dispose scope, so a module built inside a scope outlives it.</summary>
    public static Parameter TruncatedNormal(long[] shape, double std = Std)
    {
        var value = empty(shape, ScalarType.Float32).DetachFromDisposeScope();
        using (no_grad())
            nn.init.trunc_normal_(value, 0, std, -2, 2);
        return new Parameter(value, requires_grad: true);
    }
}
