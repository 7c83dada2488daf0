using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Augmentation;

/// <summary>Exact whole-tensor equality (TorchSharp's <c>equal</c> is element-wise).</summary>
internal static class TensorComparison
{
    /// <summary>True when both tensors have the same shape and every element is equal.</summary>
    public static bool IsEqualTo(this Tensor actual, Tensor expected)
    {
        if (!actual.shape.SequenceEqual(expected.shape)) return false;
        using var same = (actual == expected).all();
        return same.item<bool>();
    }
}
