using System.Globalization;

namespace DeepRetrieval.AnnBench;

/// <summary>
/// Another library's recall/QPS points, measured by its own driver in the same session (hnswlib's, Faiss's), drawn
/// beside ours on the plot. Read from a CSV file of <c>recall,qps</c> lines; a header line and blank lines are skipped.
/// </summary>
internal sealed record PeerCurve(string Name, IReadOnlyList<(double Recall, double Qps)> Points)
{
    /// <summary>Parses <c>NAME=FILE.csv</c>.</summary>
    /// <exception cref="UsageException">The spec or the file is malformed, or the file is missing.</exception>
    public static PeerCurve Parse(string spec)
    {
        int equals = spec.IndexOf('=');
        if (equals <= 0 || equals == spec.Length - 1)
            throw new UsageException($"--peer needs NAME=FILE.csv; got \"{spec}\".");
        string name = spec[..equals], path = spec[(equals + 1)..];
        if (!File.Exists(path)) throw new UsageException($"--peer {name}: file \"{path}\" not found.");
        var points = new List<(double, double)>();
        string[] lines = File.ReadAllLines(path);
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0 || (i == 0 && !char.IsDigit(line[0]))) continue;
            string[] fields = line.Split(',');
            if (fields.Length < 2
                || !double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double recall)
                || !double.TryParse(fields[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double qps)
                || recall is < 0 or > 1 || !(qps > 0))
                throw new UsageException($"--peer {name}: line {i + 1} of \"{path}\" is not \"recall,qps\" with recall in [0, 1] and qps > 0: \"{line}\".");
            points.Add((recall, qps));
        }
        if (points.Count == 0) throw new UsageException($"--peer {name}: \"{path}\" holds no points.");
        return new PeerCurve(name, points);
    }
}
