using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Pooling;

/// <summary>
/// Global poolings by name, as <see cref="Backbones.BackboneRegistry"/> does for backbones: a <see cref="ComponentSpec"/> string
/// such as <c>gem</c>, <c>gem(p=4, learnable=false)</c>, <c>rmac(levels=2)</c>, <c>bilinear</c> or
/// <c>compact_bilinear(dim=4096, seed=1)</c> picks the layer and its arguments; a <c>RetrievalModelConfig</c> stores that
/// string. Built in:
/// <list type="table">
/// <listheader><term>name (parameters, defaults)</term><description>layer, output width for C channels</description></listheader>
/// <item><term><c>gem(p=3.0, learnable=true, eps=1e-6)</c></term><description><see cref="GeM"/>, C</description></item>
/// <item><term><c>mac</c></term><description><see cref="MAC"/>, C</description></item>
/// <item><term><c>spoc</c></term><description><see cref="SPoC"/>, C</description></item>
/// <item><term><c>rmac(levels=3, whole=true, eps=1e-6)</c></term><description><see cref="RMAC"/>, C</description></item>
/// <item><term><c>bilinear(eps=1e-10)</c></term><description><see cref="BilinearPooling"/> of the map with itself, C²</description></item>
/// <item><term><c>compact_bilinear(dim=8192, seed=0, normalize=true, eps=1e-10)</c></term><description><see cref="CompactBilinearPooling"/> of the map with itself, dim</description></item>
/// </list>
/// Applications <see cref="Register"/> their own (one <see cref="PoolingKind"/>, one call).
/// </summary>
public static class PoolingRegistry
{
    private static readonly NamedRegistry<PoolingKind> Kinds = new("pooling");

    static PoolingRegistry()
    {
        foreach (var kind in BuiltIn())
            Kinds.Set(kind.Name, kind);
    }

    /// <summary>Every registered name, sorted.</summary>
    public static IReadOnlyList<string> Names => Kinds.Names;

    /// <summary>Whether a pooling of that name is registered.</summary>
    /// <param name="name">A name, case-insensitive.</param>
    public static bool Contains(string name) => Kinds.Contains(name);

    /// <summary>The registered pooling of that name.</summary>
    /// <param name="name">A name, case-insensitive.</param>
    /// <exception cref="ArgumentException">The name is not registered; the message lists the registered names.</exception>
    public static PoolingKind Describe(string name) => Kinds.Find(name);

    /// <summary>Parses a specification, checks its name and arguments, and completes it with the defaults (the canonical form).</summary>
    /// <param name="spec">A specification such as <c>gem(p=4)</c>.</param>
    /// <exception cref="ArgumentException">The text does not parse, the name is not registered, an argument is unknown or of the wrong type.</exception>
    public static ComponentSpec Resolve(string spec) => Kinds.Resolve(spec, k => k.Parameters).Spec;

    /// <summary>The descriptor width the pooling gives for maps of <paramref name="channels"/> channels, without building it.</summary>
    /// <param name="spec">A specification.</param>
    /// <param name="channels">C, the channels of the feature maps.</param>
    /// <exception cref="ArgumentException">The specification is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException">channels is not positive.</exception>
    public static int OutputDimension(string spec, int channels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        var (resolved, kind) = Kinds.Resolve(spec, k => k.Parameters);
        return kind.OutputDimension(resolved, channels);
    }

    /// <summary>Builds the pooling layer.</summary>
    /// <param name="spec">A specification.</param>
    /// <param name="channels">C, the channels of the feature maps.</param>
    /// <exception cref="ArgumentException">The specification is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException">channels is not positive.</exception>
    public static nn.Module<Tensor, Tensor> Create(string spec, int channels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        var (resolved, kind) = Kinds.Resolve(spec, k => k.Parameters);
        return kind.Create(resolved, channels);
    }

    /// <summary>Registers (or replaces) a pooling under its name.</summary>
    /// <param name="kind">The pooling.</param>
    /// <exception cref="ArgumentException">The name or a parameter name is not an identifier (letters, digits, underscores).</exception>
    public static void Register(PoolingKind kind)
    {
        ArgumentNullException.ThrowIfNull(kind);
        ComponentSpec.CheckDeclaration(kind.Name, kind.Parameters, nameof(kind));
        ArgumentNullException.ThrowIfNull(kind.OutputDimension);
        ArgumentNullException.ThrowIfNull(kind.Create);
        Kinds.Set(kind.Name, kind);
    }

    private static IEnumerable<PoolingKind> BuiltIn()
    {
        static KeyValuePair<string, string> P(string key, string value) => new(key, value);
        static int Same(ComponentSpec spec, int channels) => channels;
        yield return new PoolingKind("gem", [P("p", "3.0"), P("learnable", "true"), P("eps", "1e-6")], Same,
            (s, c) => new GeM(s.GetDouble("p"), s.GetBoolean("learnable"), epsilon: s.GetDouble("eps")));
        yield return new PoolingKind("mac", [], Same, (s, c) => new MAC());
        yield return new PoolingKind("spoc", [], Same, (s, c) => new SPoC());
        yield return new PoolingKind("rmac", [P("levels", "3"), P("whole", "true"), P("eps", "1e-6")], Same,
            (s, c) => new RMAC(s.GetInt32("levels"), s.GetBoolean("whole"), s.GetDouble("eps")));
        yield return new PoolingKind("bilinear", [P("eps", "1e-10")], (s, c) => checked(c * c), (s, c) => new BilinearPooling(s.GetDouble("eps")));
        yield return new PoolingKind("compact_bilinear", [P("dim", "8192"), P("seed", "0"), P("normalize", "true"), P("eps", "1e-10")],
            (s, c) => s.GetInt32("dim"),
            (s, c) => new CompactBilinearPooling(c, c, s.GetInt32("dim"), s.GetInt32("seed"), s.GetBoolean("normalize"), s.GetDouble("eps")));
    }
}
