using System.Text;

namespace DeepRetrieval.Evaluation.Protocols;

/// <summary>Splits CSV lines as Python's <c>csv.reader</c> does for the benchmark files (commas, optional double quotes).</summary>
internal static class CsvLines
{
    /// <summary>The remaining non-empty lines of <paramref name="reader"/>, split, with 1-based line numbers counting the <paramref name="linesRead"/> already read.</summary>
    public static IEnumerable<(int Line, List<string> Fields)> Rows(TextReader reader, string source, int linesRead)
    {
        int line = linesRead;
        string? text;
        while ((text = reader.ReadLine()) is not null)
        {
            line++;
            if (text.Length > 0) yield return (line, Split(text, source, line));
        }
    }

    public static List<string> Split(string line, string source, int lineNumber)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"' && field.Length == 0) quoted = true;
            else if (c == ',') { fields.Add(field.ToString()); field.Clear(); }
            else field.Append(c);
        }

        if (quoted) throw new InvalidDataException($"{source}, line {lineNumber}: unterminated quoted field.");
        fields.Add(field.ToString());
        return fields;
    }
}
