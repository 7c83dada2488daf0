using System.Globalization;
using System.Text;

namespace DeepRetrieval.AnnBench;

/// <summary>Prints the result rows as an aligned text table.</summary>
internal static class ResultTable
{
    public static string Format(IReadOnlyList<ResultRow> rows, string? torchName)
    {
        ResultRow? torch = torchName is null ? null : rows.FirstOrDefault(r => r.Index == torchName);
        string[] header = ["index", "search params", "build s", "recall", "qps", "batch qps", "memory MiB", "threads", "k", "queries"];
        if (torch is not null) header = [.. header, "batch ÷ torch"];
        var cells = new List<string[]> { header };
        foreach (ResultRow row in rows)
        {
            string[] line =
            [
                row.Index,
                (row.SearchParams.Count == 0 ? "-" : row.SearchParamsText) + (row.Filter is null ? "" : $" {row.Filter}"),
                Invariant($"{row.BuildSeconds:F2}"),
                Invariant($"{row.Recall:F4}"),
                row.Qps is double qps ? Invariant($"{qps:N1}") : "-",
                Invariant($"{row.BatchQps:N1}"),
                Invariant($"{row.MemoryBytes / (1024.0 * 1024.0):F1}"),
                Invariant($"{row.Threads}"),
                Invariant($"{row.K}"),
                Invariant($"{row.Queries}"),
            ];
            if (torch is not null) line = [.. line, Invariant($"{row.BatchQps / torch.BatchQps:F2}x")];
            cells.Add(line);
        }

        int columns = header.Length;
        var widths = new int[columns];
        foreach (string[] line in cells)
            for (int c = 0; c < columns; c++) widths[c] = Math.Max(widths[c], line[c].Length);

        var text = new StringBuilder();
        for (int r = 0; r < cells.Count; r++)
        {
            text.Append('|');
            for (int c = 0; c < columns; c++)
            {
                // Text columns left-aligned, numbers right-aligned.
                string cell = cells[r][c];
                text.Append(' ').Append(c < 2 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c])).Append(" |");
            }
            text.AppendLine();
            if (r == 0)
            {
                text.Append('|');
                for (int c = 0; c < columns; c++)
                    text.Append(c < 2 ? ":" : "-").Append('-', widths[c]).Append(c < 2 ? "-|" : ":|");
                text.AppendLine();
            }
        }
        return text.ToString();
    }

    private static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);
}
