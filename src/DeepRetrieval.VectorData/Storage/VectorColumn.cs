namespace DeepRetrieval.VectorData.Storage;

/// <summary>A vector column of a collection: one index per column.</summary>
/// <param name="Name">The storage name.</param>
/// <param name="Dimension">Components per vector.</param>
/// <param name="DistanceFunction">One of the abstraction's <c>DistanceFunction</c> names.</param>
/// <param name="IndexKind">One of the abstraction's <c>IndexKind</c> names, or an <c>IndexFactory</c> description.</param>
public sealed record VectorColumn(string Name, int Dimension, string DistanceFunction, string IndexKind);
