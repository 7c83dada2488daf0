using DeepRetrieval.Persistence;
using DeepRetrieval.Transforms;

namespace DeepRetrieval.Indexes;

/// <summary>
/// One kind of vector transform, described once: its name in index files (<see cref="IVectorTransform.Kind"/>), how the
/// factory builds it from a leading token, and how a <see cref="TransformedIndex"/> payload reads it back. Register an
/// application's own with <see cref="IndexRegistry.Register(TransformKind)"/>.
/// </summary>
/// <param name="name">The kind name, equal to the transform's <see cref="IVectorTransform.Kind"/>.</param>
/// <param name="readPayload">Reads what the transform's <see cref="IVectorTransform.Write"/> wrote, validating it.</param>
public sealed class TransformKind(string name, Func<IndexPayloadReader, IVectorTransform> readPayload)
{
    /// <summary>The kind name.</summary>
    public string Name { get; } = CheckName(name);

    /// <summary>Reads a transform of this kind.</summary>
    public Func<IndexPayloadReader, IVectorTransform> ReadPayload { get; } = readPayload ?? throw new ArgumentNullException(nameof(readPayload));

    /// <summary>
    /// Builds an untrained transform when the cursor's current token is this kind's, taking the cursor's
    /// <see cref="IndexFactoryCursor.Dimension"/> as its input dimension; null when the token is not this kind's.
    /// </summary>
    public Func<IndexFactoryCursor, IVectorTransform?>? Create { get; init; }

    /// <summary>How the factory spells the transform, for error messages and listings.</summary>
    public string? FactorySyntax { get; init; }

    private static string CheckName(string name)
    {
        IndexFileFormat.CheckKind(name);
        return name;
    }
}
