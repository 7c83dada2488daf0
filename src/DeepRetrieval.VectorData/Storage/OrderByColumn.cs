namespace DeepRetrieval.VectorData.Storage;

/// <summary>A sort key of a filtered read: the key column or a single-value data column, ascending or descending (nulls first ascending).</summary>
/// <param name="Column">Storage name.</param>
/// <param name="Ascending">True for ascending.</param>
public readonly record struct OrderByColumn(string Column, bool Ascending);
