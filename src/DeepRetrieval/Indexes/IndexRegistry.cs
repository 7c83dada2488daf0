using System.Diagnostics.CodeAnalysis;
using DeepRetrieval.Indexes.Binary;
using DeepRetrieval.Indexes.Codes;
using DeepRetrieval.Indexes.Hnsw;
using DeepRetrieval.Indexes.Ivf;
using DeepRetrieval.Indexes.Trees;
using DeepRetrieval.Transforms;

namespace DeepRetrieval.Indexes;

/// <summary>
/// The one table of index and transform kinds that <see cref="IndexFactory"/> and <see cref="IndexFile"/> consult: each
/// kind's name, factory parser and payload reader. The library's kinds are registered below, one line each; an
/// application registers its own at start-up, after which its factory tokens build and its files load like the
/// library's.
/// </summary>
/// <remarks>
/// Factory parsers are tried in registration order, the library's first, so an application's kind cannot take over a
/// built-in token. Registration is thread-safe; lookups are lock-free.
/// </remarks>
public static class IndexRegistry
{
    private static readonly Lock Gate = new();
    private static IndexKindDescriptor[] s_kinds = [];
    private static TransformKind[] s_transforms = [];

    static IndexRegistry()
    {
        // Transforms, tried on the leading tokens of a description.
        Add(new TransformKind(PcaTransform.KindName, PcaTransform.Read) { Create = TransformTokens.Pca, FactorySyntax = "PCA<d>, PCAW<d>, PCAR<d>, PCAWR<d>" });
        Add(new TransformKind(OpqTransform.KindName, OpqTransform.Read) { Create = TransformTokens.Opq, FactorySyntax = "OPQ<M>[_<d>]" });
        Add(new TransformKind(ItqTransform.KindName, ItqTransform.Read) { Create = TransformTokens.Itq, FactorySyntax = "ITQ<bits>" });

        // Indexes, one line per kind.
        Add(FlatIndex.Registration);
        Add(HnswIndex.Registration);
        Add(HnswIndex.QuantizedRegistration);
        Add(HnswIndex.ProductQuantizedRegistration);
        Add(ScalarQuantizerIndex.Registration);
        Add(PqIndex.Registration);
        Add(IvfIndex.Registration);
        Add(LshIndex.Registration);
        Add(BinaryFlatIndex.Registration);
        Add(KdTreeIndex.Registration);
        Add(RandomProjectionForestIndex.Registration);
        Add(TransformedIndex.Registration);
        Add(RefineFlatIndex.Registration);
    }

    /// <summary>Every registered index kind, in registration order.</summary>
    public static IReadOnlyList<IndexKindDescriptor> Kinds => Volatile.Read(ref s_kinds);

    /// <summary>Every registered transform kind, in registration order.</summary>
    public static IReadOnlyList<TransformKind> TransformKinds => Volatile.Read(ref s_transforms);

    /// <summary>Registers an application's index kind.</summary>
    /// <param name="kind">The kind; its name must not be registered yet.</param>
    /// <exception cref="ArgumentException">A kind of that name is already registered.</exception>
    public static void Register(IndexKindDescriptor kind)
    {
        ArgumentNullException.ThrowIfNull(kind);
        Add(kind);
    }

    /// <summary>Registers an application's transform kind.</summary>
    /// <param name="kind">The kind; its name must not be registered yet.</param>
    /// <exception cref="ArgumentException">A transform kind of that name is already registered.</exception>
    public static void Register(TransformKind kind)
    {
        ArgumentNullException.ThrowIfNull(kind);
        Add(kind);
    }

    /// <summary>Finds the index kind of the given name.</summary>
    /// <param name="name">The kind name (case-sensitive).</param>
    /// <param name="kind">The kind, when found.</param>
    public static bool TryGetKind(string name, [NotNullWhen(true)] out IndexKindDescriptor? kind)
    {
        kind = Array.Find(Volatile.Read(ref s_kinds), k => k.Name == name);
        return kind is not null;
    }

    /// <summary>Finds the transform kind of the given name.</summary>
    /// <param name="name">The kind name (case-sensitive).</param>
    /// <param name="kind">The kind, when found.</param>
    public static bool TryGetTransformKind(string name, [NotNullWhen(true)] out TransformKind? kind)
    {
        kind = Array.Find(Volatile.Read(ref s_transforms), k => k.Name == name);
        return kind is not null;
    }

    private static void Add(IndexKindDescriptor kind)
    {
        lock (Gate)
        {
            if (Array.Exists(s_kinds, k => k.Name == kind.Name))
                throw new ArgumentException($"An index kind named \"{kind.Name}\" is already registered.", nameof(kind));
            Volatile.Write(ref s_kinds, [.. s_kinds, kind]);
        }
    }

    private static void Add(TransformKind kind)
    {
        lock (Gate)
        {
            if (Array.Exists(s_transforms, k => k.Name == kind.Name))
                throw new ArgumentException($"A transform kind named \"{kind.Name}\" is already registered.", nameof(kind));
            Volatile.Write(ref s_transforms, [.. s_transforms, kind]);
        }
    }
}
