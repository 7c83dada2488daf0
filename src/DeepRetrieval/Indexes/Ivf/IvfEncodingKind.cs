namespace DeepRetrieval.Indexes.Ivf;

/// <summary>How an <see cref="IvfIndex"/> stores the vectors of its inverted lists.</summary>
public enum IvfEncodingKind
{
    /// <summary>Raw floats (Faiss <c>IndexIVFFlat</c>): 4·d bytes per vector, exact distances within the probed lists.</summary>
    Flat = 0,

    /// <summary>Scalar-quantized residuals (Faiss <c>IndexIVFScalarQuantizer</c>): SQ8, SQ4 or fp16 codes of the vector minus its centroid.</summary>
    ScalarQuantizer = 1,

    /// <summary>Product-quantized residuals (Faiss <c>IndexIVFPQ</c>): M sub-quantizer codes of the vector minus its centroid.</summary>
    ProductQuantizer = 2,
}
