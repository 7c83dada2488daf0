using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Weights;

/// <summary>The header of a safetensors file, read without its data by <see cref="SafeTensors.ReadHeader"/>.</summary>
/// <param name="Entries">Name, element type and shape of every tensor, in data-offset order.</param>
/// <param name="Metadata">The <c>__metadata__</c> map; empty when the file has none.</param>
public sealed record SafeTensorsHeader(IReadOnlyList<SafeTensorsEntry> Entries, IReadOnlyDictionary<string, string> Metadata);

/// <summary>One tensor described by a safetensors header.</summary>
/// <param name="Name">The tensor name.</param>
/// <param name="Type">The element type.</param>
/// <param name="Shape">The shape.</param>
public sealed record SafeTensorsEntry(string Name, ScalarType Type, IReadOnlyList<long> Shape);
