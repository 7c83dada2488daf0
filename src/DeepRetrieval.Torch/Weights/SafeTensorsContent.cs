using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Weights;

/// <summary>What <see cref="SafeTensors.Load"/> read: the tensors by name (in file order) and the metadata map.</summary>
/// <param name="Tensors">New CPU tensors by name; the caller owns (and disposes) them.</param>
/// <param name="Metadata">The <c>__metadata__</c> map; empty when the file has none.</param>
public sealed record SafeTensorsContent(IReadOnlyDictionary<string, Tensor> Tensors, IReadOnlyDictionary<string, string> Metadata);
