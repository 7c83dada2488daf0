using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>What a <see cref="ResNet"/> asks of one residual block (timm's <c>block_fn</c> arguments).</summary>
/// <param name="InputChannels">Channels entering the block.</param>
/// <param name="Planes">The stage's base width (64, 128, 256, 512 for ImageNet ResNets); the block outputs Planes × expansion channels.</param>
/// <param name="Stride">Stride of the block (2 for the first block of layer2..4, else 1).</param>
/// <param name="Downsample">The shortcut projection the block must register as <c>downsample</c> and apply to its input, or null for identity.</param>
/// <param name="Groups">Groups of the 3 × 3 convolution (ResNeXt cardinality).</param>
/// <param name="WidthPerGroup">Width of each group at planes 64 (64 for ResNet, 4 for ResNeXt-32x4d, 128 for Wide ResNet).</param>
/// <param name="Padding">Padding placement of strided convolutions.</param>
public sealed record ResNetBlockSpec(int InputChannels, int Planes, int Stride, nn.Module<Tensor, Tensor>? Downsample, int Groups, int WidthPerGroup, ResNetPadding Padding);
