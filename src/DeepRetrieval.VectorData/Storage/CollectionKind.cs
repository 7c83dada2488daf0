namespace DeepRetrieval.VectorData.Storage;

/// <summary>Whether a data column holds one value or a collection of values (a tag list).</summary>
/// <remarks>The numeric values are written to disk; never renumber them.</remarks>
public enum CollectionKind : byte
{
    /// <summary>A single value.</summary>
    None = 0,

    /// <summary>An array, <c>T[]</c>.</summary>
    Array = 1,

    /// <summary>A <see cref="List{T}"/>.</summary>
    List = 2,
}
