using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Heads;

/// <summary>
/// Heads by name, as <see cref="Backbones.BackboneRegistry"/> does for backbones: a <see cref="ComponentSpec"/> string picks the
/// layer between the pooled descriptor (width P) and the embedding (width D); a <c>RetrievalModelConfig</c> stores it. Built in:
/// <list type="table">
/// <listheader><term>name (parameters, defaults)</term><description>layer</description></listheader>
/// <item><term><c>none</c></term><description>the pooled descriptor itself (D = P)</description></item>
/// <item><term><c>linear</c></term><description><see cref="EmbeddingHead"/>: a learned projection</description></item>
/// <item><term><c>linear_bn</c></term><description><see cref="EmbeddingHead"/>: projection then <c>BatchNorm1d</c>, both part of the embedding</description></item>
/// <item><term><c>bnneck(project=true)</c></term><description><see cref="EmbeddingHead"/>: (projection, when <c>project</c>; else D = P) then the <see cref="BNNeck"/> of Luo et al., whose two features reach the metric and classification losses separately</description></item>
/// <item><term><c>pca_whitening(eps=1e-6)</c></term><description><see cref="PcaWhitening"/> to D ≤ P directions, fitted after training (<c>RetrievalModel.FitWhitening</c>)</description></item>
/// </list>
/// Applications <see cref="Register"/> their own (one <see cref="HeadKind"/>, one call).
/// </summary>
public static class HeadRegistry
{
    private static readonly NamedRegistry<HeadKind> Kinds = new("head");

    static HeadRegistry()
    {
        foreach (var kind in BuiltIn())
            Kinds.Set(kind.Name, kind);
    }

    /// <summary>Every registered name, sorted.</summary>
    public static IReadOnlyList<string> Names => Kinds.Names;

    /// <summary>Whether a head of that name is registered.</summary>
    /// <param name="name">A name, case-insensitive.</param>
    public static bool Contains(string name) => Kinds.Contains(name);

    /// <summary>The registered head of that name.</summary>
    /// <param name="name">A name, case-insensitive.</param>
    /// <exception cref="ArgumentException">The name is not registered; the message lists the registered names.</exception>
    public static HeadKind Describe(string name) => Kinds.Find(name);

    /// <summary>Parses a specification, checks its name and arguments, and completes it with the defaults (the canonical form).</summary>
    /// <param name="spec">A specification such as <c>bnneck(project=false)</c>.</param>
    /// <exception cref="ArgumentException">The text does not parse, the name is not registered, an argument is unknown or of the wrong type.</exception>
    public static ComponentSpec Resolve(string spec) => Kinds.Resolve(spec, k => k.Parameters).Spec;

    /// <summary>Throws unless the head can map <paramref name="pooledWidth"/> to <paramref name="embeddingWidth"/>.</summary>
    /// <param name="spec">A specification.</param>
    /// <param name="pooledWidth">P, the width of the pooled descriptor.</param>
    /// <param name="embeddingWidth">D, the embedding width.</param>
    /// <exception cref="ArgumentException">The specification is invalid, or the widths do not suit the head.</exception>
    public static void CheckWidths(string spec, int pooledWidth, int embeddingWidth)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pooledWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(embeddingWidth);
        var (resolved, kind) = Kinds.Resolve(spec, k => k.Parameters);
        kind.CheckWidths(resolved, pooledWidth, embeddingWidth);
    }

    /// <summary>Elements of the largest tensor the head holds (see <see cref="HeadKind.LargestTensor"/>), or null when its kind does not say.</summary>
    /// <param name="spec">A head specification.</param>
    /// <param name="pooledWidth">Width of the pooled descriptor.</param>
    /// <param name="embeddingWidth">Width of the embedding.</param>
    /// <exception cref="ArgumentException">The specification is invalid.</exception>
    public static long? LargestTensor(string spec, int pooledWidth, int embeddingWidth)
    {
        var (resolved, kind) = Kinds.Resolve(spec, k => k.Parameters);
        return kind.LargestTensor?.Invoke(resolved, pooledWidth, embeddingWidth);
    }

    /// <summary>Builds the head.</summary>
    /// <param name="spec">A specification.</param>
    /// <param name="pooledWidth">P, the width of the pooled descriptor.</param>
    /// <param name="embeddingWidth">D, the embedding width.</param>
    /// <exception cref="ArgumentException">The specification is invalid, or the widths do not suit the head.</exception>
    public static nn.Module<Tensor, Tensor> Create(string spec, int pooledWidth, int embeddingWidth)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pooledWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(embeddingWidth);
        var (resolved, kind) = Kinds.Resolve(spec, k => k.Parameters);
        kind.CheckWidths(resolved, pooledWidth, embeddingWidth);
        return kind.Create(resolved, pooledWidth, embeddingWidth);
    }

    /// <summary>Registers (or replaces) a head under its name.</summary>
    /// <param name="kind">The head.</param>
    /// <exception cref="ArgumentException">The name or a parameter name is not an identifier (letters, digits, underscores).</exception>
    public static void Register(HeadKind kind)
    {
        ArgumentNullException.ThrowIfNull(kind);
        ComponentSpec.CheckDeclaration(kind.Name, kind.Parameters, nameof(kind));
        ArgumentNullException.ThrowIfNull(kind.CheckWidths);
        ArgumentNullException.ThrowIfNull(kind.Create);
        Kinds.Set(kind.Name, kind);
    }

    private static IEnumerable<HeadKind> BuiltIn()
    {
        static void Any(ComponentSpec spec, int pooled, int embedding) { }
        static void Same(ComponentSpec spec, int pooled, int embedding)
        {
            if (pooled != embedding)
                throw new ArgumentException($"With head '{spec}' the embedding is the pooled descriptor, so the embedding dimension must be {pooled}; got {embedding}.", nameof(embedding));
        }
        static long Projection(ComponentSpec spec, int pooled, int embedding) => (long)pooled * embedding;
        yield return new HeadKind("none", [], Same, (s, p, d) => nn.Identity()) { LargestTensor = (s, p, d) => 0 };
        yield return new HeadKind("linear", [], Any, (s, p, d) => new EmbeddingHead(p, d, project: true, HeadNeck.None)) { LargestTensor = Projection };
        yield return new HeadKind("linear_bn", [], Any, (s, p, d) => new EmbeddingHead(p, d, project: true, HeadNeck.BatchNorm)) { LargestTensor = Projection };
        yield return new HeadKind("bnneck", [new("project", "true")],
            (s, p, d) =>
            {
                if (!s.GetBoolean("project"))
                    Same(s, p, d);
            },
            (s, p, d) => new EmbeddingHead(p, d, s.GetBoolean("project"), HeadNeck.BNNeck))
        {
            LargestTensor = (s, p, d) => s.GetBoolean("project") ? Projection(s, p, d) : d,
        };
        yield return new HeadKind("pca_whitening", [new("eps", "1e-6")],
            (s, p, d) =>
            {
                if (d > p)
                    throw new ArgumentException($"A PCA whitening keeps at most the pooled width {p} directions; the embedding dimension is {d}.", nameof(d));
            },
            (s, p, d) => new PcaWhitening(p, d, s.GetDouble("eps")))
        {
            LargestTensor = Projection,
        };
    }
}
