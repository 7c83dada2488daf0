using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>One layer of a torchvision <c>features</c> sequence with the channels and total stride of its output.</summary>
internal sealed record FeatureLayer(nn.Module<Tensor, Tensor> Module, int Channels, int Stride);
