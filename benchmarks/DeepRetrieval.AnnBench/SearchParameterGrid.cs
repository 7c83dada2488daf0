using System.Globalization;

namespace DeepRetrieval.AnnBench;

/// <summary>
/// Search-time parameters to sweep, parsed from <c>"name=v1,v2,v3[;name2=w1,w2]"</c>. Every combination of the
/// values (the cartesian product, first name outermost) is run; an empty grid is one run with the index's defaults.
/// </summary>
internal sealed class SearchParameterGrid
{
    private readonly List<(string Name, double[] Values)> _axes;

    private SearchParameterGrid(List<(string Name, double[] Values)> axes) => _axes = axes;

    public static SearchParameterGrid Empty { get; } = new([]);

    public bool IsEmpty => _axes.Count == 0;

    /// <exception cref="UsageException">The text does not follow the syntax.</exception>
    public static SearchParameterGrid Parse(string text)
    {
        const string Syntax = "the syntax is \"name=v1,v2,v3\", with \";\" between names, e.g. \"ef=10,20,40;nprobe=1,4\"";
        var axes = new List<(string, double[])>();
        foreach (string part in text.Split(';'))
        {
            string item = part.Trim();
            if (item.Length == 0)
                throw new UsageException($"--search-params \"{text}\": empty entry (a stray \";\"?); {Syntax}.");
            int equals = item.IndexOf('=');
            if (equals < 0)
                throw new UsageException($"--search-params \"{text}\": \"{item}\" has no \"=\"; {Syntax}.");
            string name = item[..equals].Trim();
            if (!IsName(name))
                throw new UsageException($"--search-params \"{text}\": \"{name}\" is not a parameter name (letters, digits, '_', starting with a letter); {Syntax}.");
            if (axes.Exists(a => a.Item1 == name))
                throw new UsageException($"--search-params \"{text}\": \"{name}\" is given twice; list all its values once, e.g. \"{name}=1,2,3\".");
            string[] rawValues = item[(equals + 1)..].Split(',');
            var values = new double[rawValues.Length];
            for (int i = 0; i < rawValues.Length; i++)
            {
                string raw = rawValues[i].Trim();
                if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !double.IsFinite(values[i]))
                    throw new UsageException($"--search-params \"{text}\": value \"{raw}\" of \"{name}\" is not a number; {Syntax}.");
            }
            axes.Add((name, values));
        }
        return new SearchParameterGrid(axes);
    }

    /// <summary>Every combination of values; one empty combination when the grid is empty.</summary>
    public IEnumerable<SearchParameterSet> Combinations()
    {
        var current = new (string Name, double Value)[_axes.Count];
        return Expand(0);

        IEnumerable<SearchParameterSet> Expand(int axis)
        {
            if (axis == _axes.Count)
            {
                yield return new SearchParameterSet([.. current]);
                yield break;
            }
            foreach (double value in _axes[axis].Values)
            {
                current[axis] = (_axes[axis].Name, value);
                foreach (SearchParameterSet set in Expand(axis + 1)) yield return set;
            }
        }
    }

    private static bool IsName(string name) =>
        name.Length > 0 && char.IsAsciiLetter(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
