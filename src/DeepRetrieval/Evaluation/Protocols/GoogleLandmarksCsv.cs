using System.Globalization;

namespace DeepRetrieval.Evaluation.Protocols;

/// <summary>
/// Reads the Google Landmarks v2 solution and submission CSV files exactly as DELF's <c>dataset_file_io.py</c> does:
/// a header line is skipped; solutions give each test image a space-separated ground truth and a Usage of
/// Public, Private or Ignored; submissions give recognition as <c>landmark score</c> and retrieval as space-separated
/// index ids (a trailing space is dropped); empty predictions are skipped, Ignored images are skipped, and a repeated
/// or unknown test image is an error.
/// </summary>
public static class GoogleLandmarksCsv
{
    /// <summary>Reads a recognition solution (<c>id,landmarks,Usage</c>).</summary>
    /// <param name="reader">The CSV text.</param>
    /// <param name="source">Name used in error messages.</param>
    /// <exception cref="InvalidDataException">A line is malformed or has an unknown Usage.</exception>
    public static GoogleLandmarksSolution<long> ReadRecognitionSolution(TextReader reader, string source = "solution") =>
        ReadSolution(reader, source, (field, line) => field.Length == 0
            ? []
            : field.Split(' ').Select(id => long.TryParse(id, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value)
                ? value : throw new InvalidDataException($"{source}, line {line}: '{id}' is not a landmark id.")).ToArray());

    /// <summary>
    /// Reads a retrieval solution (<c>id,images,Usage</c>). As in DELF, the images field is split on spaces even when
    /// empty, which gives one empty id.
    /// </summary>
    /// <param name="reader">The CSV text.</param>
    /// <param name="source">Name used in error messages.</param>
    /// <exception cref="InvalidDataException">A line is malformed or has an unknown Usage.</exception>
    public static GoogleLandmarksSolution<string> ReadRetrievalSolution(TextReader reader, string source = "solution") =>
        ReadSolution(reader, source, (field, _) => field.Split(' '));

    /// <summary>Reads a recognition submission (<c>id,landmarks</c> with <c>landmark score</c>).</summary>
    /// <param name="reader">The CSV text.</param>
    /// <param name="solution">The solution, which says which images are Public, Private or Ignored.</param>
    /// <param name="source">Name used in error messages.</param>
    /// <exception cref="InvalidDataException">A line is malformed, an image repeats, or an image is not in the solution.</exception>
    public static GoogleLandmarksPredictions<LandmarkPrediction> ReadRecognitionPredictions<TTruth>(TextReader reader, GoogleLandmarksSolution<TTruth> solution, string source = "predictions") =>
        ReadPredictions(reader, solution, source, (parts, line) =>
        {
            if (parts.Length != 2)
                throw new InvalidDataException($"{source}, line {line}: a recognition prediction has 2 elements (landmark and score), found {parts.Length}.");
            if (!long.TryParse(parts[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long landmark))
                throw new InvalidDataException($"{source}, line {line}: '{parts[0]}' is not a landmark id.");
            if (!double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double score) || double.IsNaN(score))
                throw new InvalidDataException($"{source}, line {line}: '{parts[1]}' is not a score.");
            return new LandmarkPrediction(landmark, score);
        });

    /// <summary>Reads a retrieval submission (<c>id,images</c>).</summary>
    /// <param name="reader">The CSV text.</param>
    /// <param name="solution">The solution, which says which images are Public, Private or Ignored.</param>
    /// <param name="source">Name used in error messages.</param>
    /// <exception cref="InvalidDataException">A line is malformed, an image repeats, or an image is not in the solution.</exception>
    public static GoogleLandmarksPredictions<IReadOnlyList<string>> ReadRetrievalPredictions<TTruth>(TextReader reader, GoogleLandmarksSolution<TTruth> solution, string source = "predictions") =>
        ReadPredictions<TTruth, IReadOnlyList<string>>(reader, solution, source, (parts, _) => parts);

    private static GoogleLandmarksSolution<TTruth> ReadSolution<TTruth>(TextReader reader, string source, Func<string, int, IReadOnlyList<TTruth>> parse)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var publicSolution = new Dictionary<string, IReadOnlyList<TTruth>>(StringComparer.Ordinal);
        var privateSolution = new Dictionary<string, IReadOnlyList<TTruth>>(StringComparer.Ordinal);
        var ignored = new HashSet<string>(StringComparer.Ordinal);
        reader.ReadLine(); // header
        foreach ((int lineNumber, List<string> row) in CsvLines.Rows(reader, source, linesRead: 1))
        {
            if (row.Count < 3) throw new InvalidDataException($"{source}, line {lineNumber}: expected id, ground truth and Usage; found {row.Count} fields.");
            string id = row[0];
            switch (row[2])
            {
                case "Ignored": ignored.Add(id); break;
                case "Public": publicSolution[id] = parse(row[1], lineNumber); break;
                case "Private": privateSolution[id] = parse(row[1], lineNumber); break;
                default: throw new InvalidDataException($"{source}, line {lineNumber}: test image {id} has unrecognized Usage tag '{row[2]}'.");
            }
        }

        return new GoogleLandmarksSolution<TTruth>(publicSolution, privateSolution, ignored);
    }

    private static GoogleLandmarksPredictions<TPrediction> ReadPredictions<TTruth, TPrediction>(TextReader reader, GoogleLandmarksSolution<TTruth> solution, string source,
        Func<string[], int, TPrediction> parse)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(solution);
        var publicPredictions = new Dictionary<string, TPrediction>(StringComparer.Ordinal);
        var privatePredictions = new Dictionary<string, TPrediction>(StringComparer.Ordinal);
        reader.ReadLine(); // header
        foreach ((int lineNumber, List<string> row) in CsvLines.Rows(reader, source, linesRead: 1))
        {
            string id = row[0];
            if (publicPredictions.ContainsKey(id) || privatePredictions.ContainsKey(id))
                throw new InvalidDataException($"{source}, line {lineNumber}: test image {id} is repeated.");
            if (solution.Ignored.Contains(id)) continue;
            if (row.Count < 2 || row[1].Length == 0) continue;
            string[] parts = row[1].Split(' ');
            if (parts[^1].Length == 0) parts = parts[..^1];
            TPrediction prediction = parse(parts, lineNumber);
            if (solution.Public.ContainsKey(id)) publicPredictions[id] = prediction;
            else if (solution.Private.ContainsKey(id)) privatePredictions[id] = prediction;
            else throw new InvalidDataException($"{source}, line {lineNumber}: test image {id} is not in the solution.");
        }

        return new GoogleLandmarksPredictions<TPrediction>(publicPredictions, privatePredictions);
    }
}
