using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Pooling;

/// <summary>
/// One entry of <see cref="PoolingRegistry"/>: a global pooling that turns N × C × H × W feature maps into N × D descriptors,
/// chosen by a <see cref="ComponentSpec"/> such as <c>gem(p=3)</c>.
/// </summary>
/// <param name="Name">The name the specification starts with, e.g. <c>gem</c>.</param>
/// <param name="Parameters">Every argument the pooling takes, with its default value as text, in canonical order.</param>
/// <param name="OutputDimension">D for the (completed) specification and C input channels.</param>
/// <param name="Create">Builds the layer for the (completed) specification and C input channels.</param>
public sealed record PoolingKind(
    string Name,
    IReadOnlyList<KeyValuePair<string, string>> Parameters,
    Func<ComponentSpec, int, int> OutputDimension,
    Func<ComponentSpec, int, nn.Module<Tensor, Tensor>> Create);
