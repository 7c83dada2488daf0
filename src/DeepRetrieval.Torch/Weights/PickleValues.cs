namespace DeepRetrieval.Torch.Weights;

/// <summary>A Python global named by a pickle (<c>module.name</c>); never resolved to code, only matched against an allow-list.</summary>
internal sealed record PickleGlobal(string Module, string Name)
{
    public override string ToString() => $"{Module}.{Name}";
}

/// <summary>A Python dict or OrderedDict read from a pickle, in insertion order.</summary>
internal sealed class PickleDict
{
    public List<KeyValuePair<object, object?>> Items { get; } = [];

    public void Set(object key, object? value)
    {
        int index = Items.FindIndex(kv => Equals(kv.Key, key));
        if (index >= 0) Items[index] = new(key, value);
        else Items.Add(new(key, value));
    }

    public object? this[string key] => Items.FirstOrDefault(kv => Equals(kv.Key, key)).Value;

    public bool ContainsKey(string key) => Items.Any(kv => Equals(kv.Key, key));
}
