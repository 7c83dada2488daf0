namespace DeepRetrieval.Quantization;

/// <summary>How a <see cref="ScalarQuantizer"/> stores each component, as Faiss's <c>QuantizerType</c>.</summary>
public enum ScalarQuantizerType
{
    /// <summary>8 bits per component, 256 uniform levels per dimension between the trained minimum and maximum.</summary>
    SQ8 = 0,

    /// <summary>4 bits per component, 16 uniform levels per dimension; two components share a byte, low nibble first.</summary>
    SQ4 = 1,

    /// <summary>IEEE half precision (<see cref="System.Half"/>) per component; needs no training.</summary>
    Fp16 = 2,
}
