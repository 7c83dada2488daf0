using DeepRetrieval.Torch.Backbones;

namespace DeepRetrieval.Torch.Onnx;

/// <summary>The result of <see cref="OnnxImporter.ImportResNet"/>: the network with the file's weights and what is known about its use.</summary>
/// <param name="Backbone">Our <see cref="ResNet"/> with the recognised structure and the file's weights, in evaluation mode.</param>
/// <param name="Info">Name (<c>onnx:</c> + graph name), output channels and stride, input size (from the declared input, else 224)
/// and normalisation; ONNX does not record normalisation, so mean and std are the ImageNet defaults.</param>
/// <param name="InputName">The graph input the images go to.</param>
/// <param name="FeatureMapName">The ONNX value that equals <see cref="Backbone"/>'s output (the last block's ReLU).</param>
/// <param name="PooledOutputName">The ONNX value of the global average pool after the last block, or null when the graph has none.</param>
/// <param name="Structure">The structure recognised in the graph.</param>
public sealed record OnnxResNetImport(ResNet Backbone, BackboneInfo Info, string InputName, string FeatureMapName, string? PooledOutputName, ResNetConfig Structure);
