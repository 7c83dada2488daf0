using DeepRetrieval.Torch.Backbones;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Onnx;

/// <summary>
/// Maps the weights of an ONNX network onto our TorchSharp modules. <see cref="ImportResNet"/> walks a ResNet graph from its
/// input (Conv / BatchNormalization / Relu / Add / MaxPool, then AveragePool or GlobalAveragePool, Flatten and Gemm are
/// ignored), recognises the stem and every residual block (an Add of the main path's last BatchNormalization and either the
/// block input or a 1 × 1 Conv + BatchNormalization projection), infers blocks per stage, widths, groups, strides and
/// padding, builds a <see cref="ResNet"/> with that structure and copies every weight in, checking every shape.
/// </summary>
public static class OnnxImporter
{
    /// <summary>Imports a ResNet (basic or bottleneck blocks, any depth per stage, grouped convolutions, 7 × 7 stem).</summary>
    /// <param name="model">A model read by <see cref="OnnxModel.Load"/>.</param>
    /// <returns>The backbone with the file's weights and a description of the graph.</returns>
    /// <exception cref="InvalidDataException">The graph is not a ResNet this importer understands; the message names the node
    /// and what was expected (unexpected operator, pattern, attribute or weight shape).</exception>
    public static OnnxResNetImport ImportResNet(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var walker = new ResNetGraphWalker(model);
        var structure = walker.Walk();
        var config = new ResNetConfig
        {
            Block = structure.Bottleneck ? ResNetBlockFactory.Bottleneck : ResNetBlockFactory.Basic,
            Layers = structure.Layers,
            Groups = structure.Groups,
            WidthPerGroup = structure.WidthPerGroup,
            Padding = structure.Padding,
        };
        var net = new ResNet(config, structure.InputChannels);
        var targets = net.state_dict();
        using (no_grad())
        {
            foreach (var (name, source) in structure.Weights)
            {
                if (!targets.TryGetValue(name, out var target))
                    throw new InvalidDataException($"ONNX file '{model.Source}': the imported structure has no parameter '{name}' (internal mapping error).");
                long[] shape = source.Shape;
                if (!target.shape.SequenceEqual(shape))
                    throw new InvalidDataException($"ONNX file '{model.Source}': {source.Node.Label} gives '{name}' the shape [{string.Join(", ", shape)}], but the network needs [{string.Join(", ", target.shape)}].");
                using var values = tensor(source.Values).reshape(shape);
                target.copy_(values);
            }
        }
        foreach (var (name, eps) in structure.Epsilons)
        {
            var norm = (TorchSharp.Modules.BatchNorm2d)net.named_modules().First(m => m.name == name).module;
            norm.eps = eps;
        }
        int unassigned = targets.Keys.Count(k => !k.EndsWith("num_batches_tracked", StringComparison.Ordinal) && !structure.Weights.ContainsKey(k));
        if (unassigned > 0)
            throw new InvalidDataException($"ONNX file '{model.Source}': {unassigned} parameters of the recognised ResNet got no weights from the graph (internal mapping error).");
        net.eval();
        var info = new BackboneInfo($"onnx:{model.Graph.Name}", net.OutputChannels, net.OutputStride, structure.InputSize,
            structure.InputChannels == 3 ? BackboneInfo.ImageNetMean : Enumerable.Repeat(0.5f, structure.InputChannels).ToArray(),
            structure.InputChannels == 3 ? BackboneInfo.ImageNetStd : Enumerable.Repeat(0.5f, structure.InputChannels).ToArray());
        return new OnnxResNetImport(net, info, structure.InputName, structure.FeatureMapName, structure.PooledOutputName, config);
    }
}
