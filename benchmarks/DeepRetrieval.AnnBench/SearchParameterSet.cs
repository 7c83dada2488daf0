using System.Globalization;

namespace DeepRetrieval.AnnBench;

/// <summary>One combination of search-time parameter values.</summary>
internal sealed class SearchParameterSet((string Name, double Value)[] values)
{
    public IReadOnlyList<(string Name, double Value)> Values { get; } = values;

    /// <summary>For example <c>ef=10,nprobe=4</c>; empty for the defaults.</summary>
    public override string ToString() =>
        string.Join(",", Values.Select(v => string.Create(CultureInfo.InvariantCulture, $"{v.Name}={v.Value:R}")));
}
