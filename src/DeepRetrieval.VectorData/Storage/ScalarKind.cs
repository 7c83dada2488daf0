namespace DeepRetrieval.VectorData.Storage;

/// <summary>The scalar .NET types a collection stores in its keys and data columns.</summary>
/// <remarks>The numeric values are written to disk (manifest, snapshot, log); never renumber them.</remarks>
public enum ScalarKind : byte
{
    /// <summary><see cref="bool"/>.</summary>
    Boolean = 1,

    /// <summary><see cref="byte"/>.</summary>
    Byte = 2,

    /// <summary><see cref="short"/>.</summary>
    Int16 = 3,

    /// <summary><see cref="int"/>.</summary>
    Int32 = 4,

    /// <summary><see cref="long"/>.</summary>
    Int64 = 5,

    /// <summary><see cref="ulong"/> (keys only, as Qdrant's numeric point ids).</summary>
    UInt64 = 6,

    /// <summary><see cref="float"/>.</summary>
    Single = 7,

    /// <summary><see cref="double"/>.</summary>
    Double = 8,

    /// <summary><see cref="decimal"/>.</summary>
    Decimal = 9,

    /// <summary><see cref="string"/>, compared ordinally.</summary>
    String = 10,

    /// <summary><see cref="System.Guid"/>.</summary>
    Guid = 11,

    /// <summary><see cref="System.DateTime"/> (ticks and kind are kept).</summary>
    DateTime = 12,

    /// <summary><see cref="System.DateTimeOffset"/> (ticks and offset are kept; compared as instants).</summary>
    DateTimeOffset = 13,

    /// <summary><see cref="System.DateOnly"/>.</summary>
    DateOnly = 14,

    /// <summary><see cref="System.TimeOnly"/>.</summary>
    TimeOnly = 15,
}
