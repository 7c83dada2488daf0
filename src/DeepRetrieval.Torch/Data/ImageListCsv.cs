using System.Text;

namespace DeepRetrieval.Torch.Data;

/// <summary>Reads the rows of an image-list CSV (see <see cref="ImageCsvFormat"/>): a path and an optional label per row.</summary>
internal static class ImageListCsv
{
    // A row longer than this is not a list of image paths; refusing it bounds what one line can make us allocate.
    private const int MaxLineLength = 1 << 16;

    public static List<(string Path, string? Label)> Read(string csvPath, ImageCsvFormat format)
    {
        string baseFolder = Path.GetFullPath(format.BaseFolder ?? Path.GetDirectoryName(Path.GetFullPath(csvPath))!);
        using var reader = new StreamReader(csvPath, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var rows = new List<(string, string?)>();
        int pathColumn = 0, labelColumn = format.LabelColumn is null ? -1 : 1, lineNumber = 0;
        bool headerPending = format.HasHeader;
        var fields = new List<string>();
        while (ReadLine(reader, csvPath, lineNumber + 1) is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            Split(line, format.Delimiter, fields, csvPath, lineNumber);
            if (headerPending)
            {
                headerPending = false;
                pathColumn = Column(fields, format.PathColumn, csvPath);
                labelColumn = format.LabelColumn is null ? -1 : Column(fields, format.LabelColumn, csvPath);
                continue;
            }
            int needed = Math.Max(pathColumn, labelColumn) + 1;
            if (fields.Count < needed)
                throw new InvalidDataException($"{csvPath}, line {lineNumber}: expected at least {needed} fields; found {fields.Count}.");
            string path = fields[pathColumn];
            if (path.Length == 0)
                throw new InvalidDataException($"{csvPath}, line {lineNumber}: the path is empty.");
            string? label = labelColumn < 0 ? null : fields[labelColumn];
            if (label is { Length: 0 })
                throw new InvalidDataException($"{csvPath}, line {lineNumber}: the label is empty.");
            rows.Add((Path.GetFullPath(path, baseFolder), label));
        }
        if (headerPending)
            throw new InvalidDataException($"{csvPath} is empty: expected a header row naming the '{format.PathColumn}' column.");
        return rows;
    }

    private static string? ReadLine(StreamReader reader, string csvPath, int lineNumber)
    {
        var line = new StringBuilder();
        while (true)
        {
            int c = reader.Read();
            if (c < 0) return line.Length > 0 ? line.ToString() : null;
            if (c == '\n') return line.ToString();
            if (c == '\r')
            {
                if (reader.Peek() == '\n') reader.Read();
                return line.ToString();
            }
            if (line.Length >= MaxLineLength)
                throw new InvalidDataException($"{csvPath}, line {lineNumber}: longer than {MaxLineLength} characters; not an image list.");
            line.Append((char)c);
        }
    }

    // RFC 4180 fields of one line; a quoted field may hold the delimiter and "" for a quote, but not a line break.
    private static void Split(string line, char delimiter, List<string> fields, string csvPath, int lineNumber)
    {
        fields.Clear();
        var field = new StringBuilder();
        int i = 0;
        while (true)
        {
            field.Clear();
            while (i < line.Length && line[i] is ' ' or '\t' && line[i] != delimiter) i++;
            if (i < line.Length && line[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= line.Length)
                        throw new InvalidDataException($"{csvPath}, line {lineNumber}: a quoted field is not closed (fields may not span lines).");
                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"')
                        {
                            field.Append('"');
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    field.Append(line[i++]);
                }
                while (i < line.Length && line[i] != delimiter)
                {
                    if (!char.IsWhiteSpace(line[i]))
                        throw new InvalidDataException($"{csvPath}, line {lineNumber}: unexpected text after a quoted field.");
                    i++;
                }
                fields.Add(field.ToString());
            }
            else
            {
                int end = line.IndexOf(delimiter, i);
                if (end < 0) end = line.Length;
                fields.Add(line[i..end].Trim());
                i = end;
            }
            if (i >= line.Length) return;
            i++; // the delimiter
        }
    }

    private static int Column(List<string> header, string name, string csvPath)
    {
        int index = header.FindIndex(h => string.Equals(h, name, StringComparison.OrdinalIgnoreCase));
        if (index < 0)
            throw new InvalidDataException($"{csvPath}: the header has no '{name}' column; its columns are [{string.Join(", ", header)}].");
        return index;
    }
}
