namespace DeepRetrieval.Pooling;

/// <summary>
/// The registry of global poolings: each is created from its <see cref="IFeatureMapPooling.Description"/>-style text, e.g.
/// <c>GeM</c>, <c>GeM(p=3)</c>, <c>GeM(p=[3;2.5;4],eps=1E-06)</c>, <c>MAC</c>, <c>SPoC</c>, <c>RMAC(levels=3,wholeMap=true)</c>.
/// Names are case-insensitive; parameters left out take their defaults; an unknown name or parameter is an error, so a stored
/// description always rebuilds the pooling that wrote it.
/// </summary>
public static class FeatureMapPoolings
{
    // One line per pooling: name → factory reading its parameters.
    private static readonly Dictionary<string, Func<PoolingArguments, IFeatureMapPooling>> Factories = new(StringComparer.OrdinalIgnoreCase)
    {
        [GemPooling.RegistryName] = GemPooling.Create,
        [MacPooling.RegistryName] = MacPooling.Create,
        [SpocPooling.RegistryName] = SpocPooling.Create,
        [RmacPooling.RegistryName] = RmacPooling.Create,
    };

    /// <summary>The registered pooling names.</summary>
    public static IReadOnlyCollection<string> Names => Factories.Keys;

    /// <summary>Creates a pooling from its description.</summary>
    /// <param name="description">A name, optionally followed by <c>(key=value,...)</c>; lists are written <c>[a;b;c]</c>.</param>
    /// <returns>The pooling; its <see cref="IFeatureMapPooling.Description"/> lists every parameter.</returns>
    /// <exception cref="ArgumentException">The text is malformed, names no registered pooling, or has an unknown, repeated or invalid parameter.</exception>
    public static IFeatureMapPooling Parse(string description)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(description);
        PoolingArguments arguments = PoolingArguments.Parse(description);
        if (!Factories.TryGetValue(arguments.Name, out var factory))
            throw new ArgumentException($"Unknown pooling '{arguments.Name}' in '{description}'; known: {string.Join(", ", Factories.Keys)}.", nameof(description));
        IFeatureMapPooling pooling;
        try
        {
            pooling = factory(arguments);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new ArgumentException($"Invalid pooling '{description}': {e.Message}", nameof(description), e);
        }
        arguments.ThrowIfAnyUnused();
        return pooling;
    }
}
