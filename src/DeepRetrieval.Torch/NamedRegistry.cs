using System.Collections.Concurrent;

namespace DeepRetrieval.Torch;

/// <summary>The case-insensitive name table behind the backbone, pooling and head registries.</summary>
/// <typeparam name="TEntry">What is registered under a name.</typeparam>
/// <param name="what">The kind of thing in the table, for messages (e.g. <c>pooling</c>).</param>
internal sealed class NamedRegistry<TEntry>(string what)
{
    private readonly ConcurrentDictionary<string, TEntry> _entries = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Every registered name, sorted.</summary>
    public IReadOnlyList<string> Names => _entries.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>Whether the name is registered.</summary>
    public bool Contains(string name) => name is not null && _entries.ContainsKey(name);

    /// <summary>Adds or replaces an entry.</summary>
    public void Set(string name, TEntry entry)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _entries[name] = entry;
    }

    /// <summary>The entry of a registered name.</summary>
    /// <exception cref="ArgumentException">The name is not registered; the message lists the registered names.</exception>
    public TEntry Find(string name, string parameterName = "name")
    {
        ArgumentNullException.ThrowIfNull(name, parameterName);
        if (_entries.TryGetValue(name, out var entry))
            return entry;
        throw new ArgumentException($"Unknown {what} '{name}'. Registered: {string.Join(", ", Names)}.", parameterName);
    }

    /// <summary>
    /// Parses a component specification (<c>name(key=value, ...)</c>), finds the entry of its name and completes the
    /// arguments with the entry's defaults.
    /// </summary>
    /// <exception cref="ArgumentException">The text does not parse, the name is not registered, or an argument is unknown or of the wrong type.</exception>
    public (ComponentSpec Spec, TEntry Entry) Resolve(string spec, Func<TEntry, IReadOnlyList<KeyValuePair<string, string>>> parameters)
    {
        var parsed = ComponentSpec.Parse(spec);
        TEntry entry = Find(parsed.Name, nameof(spec));
        return (parsed.WithDefaults(parameters(entry)), entry);
    }

    /// <summary>Every entry.</summary>
    public IEnumerable<TEntry> Entries => _entries.Values;
}
