using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>Pieces shared by the torchvision backbone families: torchvision's weight initialisation, channel rounding and stage splitting.</summary>
internal static class TorchVisionLayers
{
    /// <summary>A convolution initialised as torchvision initialises its classification networks (Kaiming normal, fan-out, zero bias).</summary>
    public static TorchSharp.Modules.Conv2d KaimingConv(long inputChannels, long outputChannels, long kernelSize, long stride = 1, long padding = 0,
        long groups = 1, bool bias = true, nn.init.NonlinearityType nonlinearity = nn.init.NonlinearityType.ReLU)
    {
        var conv = nn.Conv2d(inputChannels, outputChannels, kernelSize, stride: stride, padding: padding, groups: groups, bias: bias);
        using (no_grad())
        {
            nn.init.kaiming_normal_(conv.weight, mode: nn.init.FanInOut.FanOut, nonlinearity: nonlinearity);
            if (conv.bias is not null)
                nn.init.zeros_(conv.bias);
        }
        return conv;
    }

    /// <summary>
    /// Adds one stage per stride level of a <c>features</c> sequence (timm's <c>feature_info</c>): a stage ends at the last
    /// layer before the stride doubles and is named after that layer, <c>features.{index}</c>; the last stage ends at the
    /// last layer.
    /// </summary>
    public static IEnumerable<(BackboneStage Stage, nn.Module<Tensor, Tensor>[] Modules)> SplitWhereStrideDoubles(IReadOnlyList<FeatureLayer> layers)
    {
        int start = 0;
        for (int i = 0; i < layers.Count; i++)
        {
            if (i == layers.Count - 1 || layers[i + 1].Stride > layers[i].Stride)
            {
                var stage = new BackboneStage($"features.{i}", layers[i].Channels, layers[i].Stride);
                yield return (stage, layers.Skip(start).Take(i - start + 1).Select(l => l.Module).ToArray());
                start = i + 1;
            }
        }
    }
}
