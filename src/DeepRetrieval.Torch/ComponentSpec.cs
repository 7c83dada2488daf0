using System.Globalization;
using System.Text;

namespace DeepRetrieval.Torch;

/// <summary>
/// A component chosen by a configuration string, <c>name</c> or <c>name(key=value, key=value)</c>, e.g. <c>gem</c>,
/// <c>gem(p=4, learnable=false)</c>, <c>compact_bilinear(dim=4096, seed=1)</c> or <c>bnneck(project=false)</c>: how
/// <see cref="Pooling.PoolingRegistry"/> and <see cref="Heads.HeadRegistry"/> read the pooling and head of a
/// <see cref="Models.RetrievalModelConfig"/>. Names and keys are letters, digits and underscores, compared case-insensitively;
/// values are numbers or <c>true</c>/<c>false</c>.
/// </summary>
public sealed class ComponentSpec
{
    private const int MaxLength = 1024;
    private readonly KeyValuePair<string, string>[] _arguments;

    private ComponentSpec(string name, KeyValuePair<string, string>[] arguments)
    {
        Name = name;
        _arguments = arguments;
    }

    /// <summary>The component's name, lower case.</summary>
    public string Name { get; }

    /// <summary>The arguments in the order written, keys lower case.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Arguments => _arguments;

    /// <summary>Parses <c>name</c> or <c>name(key=value, ...)</c>.</summary>
    /// <param name="text">The text.</param>
    /// <exception cref="ArgumentException">The text is empty, too long, not of that form, or names a key twice; the message shows where.</exception>
    public static ComponentSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxLength)
            throw new ArgumentException($"A component specification is at most {MaxLength} characters; got {text.Length}.", nameof(text));
        string trimmed = text.Trim();
        int open = trimmed.IndexOf('(');
        string name = (open < 0 ? trimmed : trimmed[..open]).Trim();
        if (!IsIdentifier(name))
            throw new ArgumentException($"'{text}' does not start with a component name (letters, digits, underscores).", nameof(text));
        if (open < 0)
            return new ComponentSpec(name.ToLowerInvariant(), []);
        if (!trimmed.EndsWith(')'))
            throw new ArgumentException($"'{text}' opens an argument list that is not closed by the last character.", nameof(text));
        string body = trimmed[(open + 1)..^1];
        if (body.IndexOfAny(['(', ')']) >= 0)
            throw new ArgumentException($"'{text}' nests parentheses; arguments are key=value pairs.", nameof(text));
        var arguments = new List<KeyValuePair<string, string>>();
        if (body.Trim().Length > 0)
        {
            foreach (string part in body.Split(','))
            {
                int equals = part.IndexOf('=');
                string key = (equals < 0 ? part : part[..equals]).Trim().ToLowerInvariant();
                string value = equals < 0 ? "" : part[(equals + 1)..].Trim();
                if (equals < 0 || !IsIdentifier(key) || value.Length == 0)
                    throw new ArgumentException($"'{part.Trim()}' in '{text}' is not a key=value argument.", nameof(text));
                if (arguments.Any(a => a.Key == key))
                    throw new ArgumentException($"'{text}' gives '{key}' twice.", nameof(text));
                arguments.Add(new(key, value));
            }
        }
        return new ComponentSpec(name.ToLowerInvariant(), [.. arguments]);
    }

    /// <summary>Whether an argument was given.</summary>
    /// <param name="key">The key, case-insensitive.</param>
    public bool Has(string key) => Find(key) is not null;

    /// <summary>A floating-point argument.</summary>
    /// <param name="key">The key.</param>
    /// <exception cref="ArgumentException">The argument is missing or not a finite number.</exception>
    public double GetDouble(string key)
    {
        string value = Required(key);
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double number) || !double.IsFinite(number))
            throw new ArgumentException($"{Name}: '{key}' must be a finite number; got '{value}'.", key);
        return number;
    }

    /// <summary>An integer argument.</summary>
    /// <param name="key">The key.</param>
    /// <exception cref="ArgumentException">The argument is missing or not a 32-bit integer.</exception>
    public int GetInt32(string key)
    {
        string value = Required(key);
        if (!int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int number))
            throw new ArgumentException($"{Name}: '{key}' must be an integer; got '{value}'.", key);
        return number;
    }

    /// <summary>A boolean argument (<c>true</c> or <c>false</c>).</summary>
    /// <param name="key">The key.</param>
    /// <exception cref="ArgumentException">The argument is missing or not a boolean.</exception>
    public bool GetBoolean(string key)
    {
        string value = Required(key);
        return value.ToLowerInvariant() switch
        {
            "true" => true,
            "false" => false,
            _ => throw new ArgumentException($"{Name}: '{key}' must be true or false; got '{value}'.", key),
        };
    }

    /// <summary>
    /// This specification checked against the component's parameters and completed with their defaults, in the order of
    /// <paramref name="parameters"/>: the canonical form a saved model records. A default's text sets the parameter's type:
    /// <c>true</c>/<c>false</c> a boolean, an integer (<c>8192</c>) an integer, anything else (<c>3.0</c>, <c>1e-6</c>) a
    /// floating-point number; given values must be of that type.
    /// </summary>
    /// <param name="parameters">Every parameter the component takes, with its default value as text.</param>
    /// <exception cref="ArgumentException">An argument is not one of the parameters (the message lists them) or not of its type.</exception>
    public ComponentSpec WithDefaults(IReadOnlyList<KeyValuePair<string, string>> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        foreach (var (key, _) in _arguments)
        {
            if (!parameters.Any(p => string.Equals(p.Key, key, StringComparison.OrdinalIgnoreCase)))
                throw new ArgumentException(parameters.Count == 0
                    ? $"'{Name}' takes no arguments; got '{key}'."
                    : $"'{Name}' has no parameter '{key}'; its parameters are {string.Join(", ", parameters.Select(p => $"{p.Key} (default {p.Value})"))}.", key);
        }
        var completed = new ComponentSpec(Name, parameters.Select(p => new KeyValuePair<string, string>(p.Key.ToLowerInvariant(), Find(p.Key) ?? p.Value)).ToArray());
        foreach (var (key, defaultValue) in parameters)
        {
            if (defaultValue is "true" or "false")
                completed.GetBoolean(key);
            else if (int.TryParse(defaultValue, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
                completed.GetInt32(key);
            else
                completed.GetDouble(key);
        }
        return completed;
    }

    /// <summary>The text form, <c>name</c> or <c>name(key=value, ...)</c>, which <see cref="Parse"/> reads back.</summary>
    public override string ToString()
    {
        if (_arguments.Length == 0)
            return Name;
        var text = new StringBuilder(Name).Append('(');
        for (int i = 0; i < _arguments.Length; i++)
            text.Append(i == 0 ? "" : ", ").Append(_arguments[i].Key).Append('=').Append(_arguments[i].Value);
        return text.Append(')').ToString();
    }

    /// <summary>Throws unless a component's name and parameter names are identifiers a specification can spell, and its defaults are usable.</summary>
    internal static void CheckDeclaration(string name, IReadOnlyList<KeyValuePair<string, string>> parameters, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(parameters, parameterName);
        if (string.IsNullOrWhiteSpace(name) || !IsIdentifier(name) || parameters.Any(p => !IsIdentifier(p.Key) || string.IsNullOrWhiteSpace(p.Value)))
            throw new ArgumentException($"'{name}' with parameters ({string.Join(", ", parameters.Select(p => p.Key))}) is not a valid component: names are letters, digits and underscores, and every parameter needs a default.", parameterName);
        if (parameters.Select(p => p.Key.ToLowerInvariant()).Distinct().Count() != parameters.Count)
            throw new ArgumentException($"'{name}' declares a parameter twice.", parameterName);
    }

    private string? Find(string key)
    {
        foreach (var (k, v) in _arguments)
        {
            if (string.Equals(k, key, StringComparison.OrdinalIgnoreCase))
                return v;
        }
        return null;
    }

    private string Required(string key) =>
        Find(key) ?? throw new ArgumentException($"{Name}: the argument '{key}' is missing.", key);

    private static bool IsIdentifier(string text) => text.Length > 0 && text.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
