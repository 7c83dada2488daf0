namespace DeepRetrieval.Torch.Onnx;

/// <summary>Kinds of ONNX node attributes (<c>AttributeProto.AttributeType</c>, same numbers); the reader decodes the first seven.</summary>
public enum OnnxAttributeType
{
    /// <summary>Not set.</summary>
    Undefined = 0,

    /// <summary>One float.</summary>
    Float = 1,

    /// <summary>One 64-bit integer.</summary>
    Int = 2,

    /// <summary>One string.</summary>
    String = 3,

    /// <summary>One tensor.</summary>
    Tensor = 4,

    /// <summary>A sub-graph (not decoded).</summary>
    Graph = 5,

    /// <summary>A list of floats.</summary>
    Floats = 6,

    /// <summary>A list of 64-bit integers.</summary>
    Ints = 7,

    /// <summary>A list of strings.</summary>
    Strings = 8,

    /// <summary>A list of tensors (not decoded).</summary>
    Tensors = 9,

    /// <summary>A list of sub-graphs (not decoded).</summary>
    Graphs = 10,
}
