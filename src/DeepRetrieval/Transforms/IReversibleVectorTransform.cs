namespace DeepRetrieval.Transforms;

/// <summary>
/// A transform that can map its outputs back to the input space (Faiss's <c>reverse_transform</c>): PCA, OPQ and ITQ.
/// A pre-transformed index reconstructs stored vectors through it.
/// </summary>
public interface IReversibleVectorTransform : IVectorTransform
{
    /// <summary>
    /// Maps transformed rows back to the input space: the exact inverse when nothing was dropped, otherwise the point of
    /// the kept subspace that the output stands for. Allocation-free once warm and safe to run concurrently after training.
    /// </summary>
    /// <param name="input">Rows of <see cref="IVectorTransform.OutputDimension"/> values.</param>
    /// <param name="output">Receives as many rows of <see cref="IVectorTransform.InputDimension"/> values.</param>
    /// <exception cref="InvalidOperationException">The transform is not trained.</exception>
    /// <exception cref="ArgumentException">The spans are not whole rows or their row counts differ.</exception>
    void ReverseTransform(ReadOnlySpan<float> input, Span<float> output);
}
