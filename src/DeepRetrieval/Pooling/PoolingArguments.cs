using System.Globalization;

namespace DeepRetrieval.Pooling;

/// <summary>A parsed pooling description <c>Name(key=value,...)</c>; factories read their parameters from it.</summary>
internal sealed class PoolingArguments
{
    private readonly string _description;
    private readonly Dictionary<string, string> _values;
    private readonly HashSet<string> _used = new(StringComparer.OrdinalIgnoreCase);

    private PoolingArguments(string description, string name, Dictionary<string, string> values)
    {
        _description = description;
        Name = name;
        _values = values;
    }

    /// <summary>The pooling name before the parenthesis.</summary>
    public string Name { get; }

    public static PoolingArguments Parse(string description)
    {
        string text = description.Trim();
        int open = text.IndexOf('(');
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (open < 0)
            return new PoolingArguments(description, text, values);
        if (!text.EndsWith(')'))
            throw Malformed(description, "the parameter list must end with ')'");
        string name = text[..open].Trim();
        string inner = text[(open + 1)..^1];
        if (inner.Trim().Length > 0)
        {
            foreach (string part in inner.Split(','))
            {
                int equals = part.IndexOf('=');
                if (equals <= 0)
                    throw Malformed(description, $"'{part.Trim()}' is not key=value");
                string key = part[..equals].Trim(), value = part[(equals + 1)..].Trim();
                if (!values.TryAdd(key, value))
                    throw Malformed(description, $"parameter '{key}' is given twice");
            }
        }
        return new PoolingArguments(description, name, values);
    }

    public float GetSingle(string key, float defaultValue) =>
        Take(key) is string text ? ParseSingle(key, text) : defaultValue;

    public int GetInt32(string key, int defaultValue)
    {
        if (Take(key) is not string text) return defaultValue;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw Malformed(_description, $"'{key}' must be an integer; got '{text}'");
    }

    public bool GetBoolean(string key, bool defaultValue)
    {
        if (Take(key) is not string text) return defaultValue;
        return bool.TryParse(text, out bool value) ? value : throw Malformed(_description, $"'{key}' must be true or false; got '{text}'");
    }

    /// <summary>A list value <c>[a;b;c]</c>, or null when the key is absent or holds a single number (then read it with <see cref="GetSingle"/>).</summary>
    public float[]? GetSingleList(string key)
    {
        if (!_values.TryGetValue(key, out string? text) || !text.StartsWith('['))
            return null;
        _used.Add(key);
        if (!text.EndsWith(']'))
            throw Malformed(_description, $"the list for '{key}' must end with ']'");
        return text[1..^1].Split(';').Select(item => ParseSingle(key, item.Trim())).ToArray();
    }

    public void ThrowIfAnyUnused()
    {
        string[] unused = _values.Keys.Where(k => !_used.Contains(k)).ToArray();
        if (unused.Length > 0)
            throw Malformed(_description, $"{Name} has no parameter {string.Join(", ", unused.Select(k => $"'{k}'"))}");
    }

    private string? Take(string key)
    {
        if (!_values.TryGetValue(key, out string? text)) return null;
        _used.Add(key);
        return text;
    }

    private float ParseSingle(string key, string text) =>
        float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value)
            ? value
            : throw Malformed(_description, $"'{key}' must be a number; got '{text}'");

    private static ArgumentException Malformed(string description, string reason) =>
        new($"Invalid pooling description '{description}': {reason}.", "description");
}
