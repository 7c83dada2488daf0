namespace DeepRetrieval.OnnxRuntime.Preprocessing;

/// <summary>The order of the colour planes a model expects in its C × H × W input.</summary>
public enum ChannelOrder
{
    /// <summary>Red, green, blue (PyTorch, torchvision, timm and most ONNX exports).</summary>
    Rgb,

    /// <summary>Blue, green, red (Caffe, CNTK and OpenCV-trained models, ML.NET's ResNet-18).</summary>
    Bgr,
}
