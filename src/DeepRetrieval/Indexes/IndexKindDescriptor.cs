using DeepRetrieval.Persistence;

namespace DeepRetrieval.Indexes;

/// <summary>
/// One kind of index, described once: its name in index files, how <see cref="IndexFactory"/> builds it from a factory
/// token, and how <see cref="IndexFile"/> reads its payload back. Register an application's own kind with
/// <see cref="IndexRegistry.Register(IndexKindDescriptor)"/>; the library's kinds are registered the same way.
/// </summary>
/// <param name="name">The kind name, equal to the index's <see cref="IIndex.Kind"/> (ASCII, 1 to 64 characters).</param>
/// <param name="readPayload">Reads what the index's save wrote after the container header, validating it (throw <see cref="InvalidDataException"/> through <see cref="IndexPayloadReader.Corrupt"/>).</param>
public sealed class IndexKindDescriptor(string name, Func<IndexPayloadReader, IIndex> readPayload)
{
    /// <summary>The kind name.</summary>
    public string Name { get; } = CheckName(name);

    /// <summary>Reads a payload of this kind.</summary>
    public Func<IndexPayloadReader, IIndex> ReadPayload { get; } = readPayload ?? throw new ArgumentNullException(nameof(readPayload));

    /// <summary>
    /// Builds an empty index when the cursor's current token is this kind's (it may consume following tokens, as
    /// <c>IVF1024,PQ16</c> does), or returns null when the token is not this kind's. Throws the cursor's
    /// <see cref="IndexFactoryCursor.Error"/> for a token it owns but that is malformed. Null when the factory cannot build the kind.
    /// </summary>
    public Func<IndexFactoryCursor, IIndex?>? Create { get; init; }

    /// <summary>
    /// Wraps the index built so far when the cursor's current token (after the index) is this kind's, as <c>RFlat</c>
    /// does; returns null when the token is not this kind's. Null for kinds that wrap nothing.
    /// </summary>
    public Func<IndexFactoryCursor, IVectorIndex, IVectorIndex?>? Wrap { get; init; }

    /// <summary>How the factory spells the kind, for error messages and listings (for example <c>HNSW&lt;M&gt;[,SQ8]</c>).</summary>
    public string? FactorySyntax { get; init; }

    private static string CheckName(string name)
    {
        IndexFileFormat.CheckKind(name);
        return name;
    }
}
