namespace DeepRetrieval.Imaging.Hashing;

/// <summary>
/// The registry of perceptual hash kinds by name, with their default settings (64 bits each). A new kind is one
/// <see cref="IPerceptualHasher"/> class plus one line here, or one <see cref="Register"/> call from an application.
/// </summary>
public static class PerceptualHashers
{
    private static readonly Dictionary<string, Func<IPerceptualHasher>> Factories = new(StringComparer.OrdinalIgnoreCase)
    {
        ["ahash"] = () => new AverageHash(),
        ["dhash"] = () => new DifferenceHash(),
        ["dhash-vertical"] = () => new DifferenceHash(vertical: true),
        ["phash"] = () => new DctHash(),
        ["whash"] = () => new WaveletHash(),
        ["opencv-ahash"] = () => new OpenCvAverageHash(),
        ["opencv-phash"] = () => new OpenCvDctHash(),
    };

    private static readonly Lock Gate = new();

    /// <summary>The registered names, sorted.</summary>
    public static IReadOnlyList<string> Names
    {
        get
        {
            lock (Gate)
                return [.. Factories.Keys.Order(StringComparer.Ordinal)];
        }
    }

    /// <summary>Creates the hasher registered under <paramref name="name"/> (case-insensitive).</summary>
    /// <param name="name">A registered name, e.g. <c>phash</c>.</param>
    /// <exception cref="ArgumentException">No hasher has that name; the message lists the known ones.</exception>
    public static IPerceptualHasher Create(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Func<IPerceptualHasher>? factory;
        lock (Gate)
            Factories.TryGetValue(name, out factory);
        return factory?.Invoke()
            ?? throw new ArgumentException($"Unknown perceptual hash \"{name}\"; known: {string.Join(", ", Names)}.", nameof(name));
    }

    /// <summary>Registers (or replaces) a hash kind.</summary>
    /// <param name="name">The name to create it by.</param>
    /// <param name="factory">Creates a configured hasher.</param>
    public static void Register(string name, Func<IPerceptualHasher> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        lock (Gate)
            Factories[name] = factory;
    }
}
