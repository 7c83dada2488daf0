namespace DeepRetrieval.VectorData.Storage;

/// <summary>A data column of a collection.</summary>
/// <param name="Name">The storage name.</param>
/// <param name="Type">The stored type.</param>
/// <param name="IsIndexed">The application marked it filterable (filters work on every column; this is kept for other stores).</param>
/// <param name="IsFullTextIndexed">A string column kept in a BM25 inverted index for hybrid keyword search.</param>
public sealed record DataColumn(string Name, ColumnType Type, bool IsIndexed, bool IsFullTextIndexed);
