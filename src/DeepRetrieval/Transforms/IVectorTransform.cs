using DeepRetrieval.Persistence;

namespace DeepRetrieval.Transforms;

/// <summary>
/// A learned or fixed map from vectors of <see cref="InputDimension"/> components to vectors of <see cref="OutputDimension"/>
/// components, applied before an index (Faiss's <c>VectorTransform</c>): PCA, OPQ rotation, ITQ. Transforms are trained once on
/// sample vectors and then applied to every vector added and every query.
/// </summary>
public interface IVectorTransform
{
    /// <summary>Components of an input vector.</summary>
    int InputDimension { get; }

    /// <summary>Components of an output vector.</summary>
    int OutputDimension { get; }

    /// <summary>Whether <see cref="Train"/> has run (always true for a transform that needs no training).</summary>
    bool IsTrained { get; }

    /// <summary>Short kind name used in index files and factory strings, e.g. <c>PCA</c>.</summary>
    string Kind { get; }

    /// <summary>Learns the transform from row-major sample vectors.</summary>
    /// <param name="vectors">Rows of <see cref="InputDimension"/> finite values.</param>
    /// <exception cref="ArgumentException">The span is not whole rows, holds NaN or infinity, or has too few rows for this transform.</exception>
    void Train(ReadOnlySpan<float> vectors);

    /// <summary>Transforms row-major <paramref name="input"/> into <paramref name="output"/>.</summary>
    /// <param name="input">Rows of <see cref="InputDimension"/> values.</param>
    /// <param name="output">Receives as many rows of <see cref="OutputDimension"/> values.</param>
    /// <exception cref="InvalidOperationException">The transform is not trained.</exception>
    /// <exception cref="ArgumentException">The spans are not whole rows or their row counts differ.</exception>
    void Apply(ReadOnlySpan<float> input, Span<float> output);

    /// <summary>Writes the transform's parameters (its kind is written by the caller).</summary>
    /// <param name="writer">The payload being written.</param>
    void Write(IndexPayloadWriter writer);
}
