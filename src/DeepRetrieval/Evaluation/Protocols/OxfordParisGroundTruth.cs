using System.Globalization;

namespace DeepRetrieval.Evaluation.Protocols;

/// <summary>
/// The original Oxford5k / Paris6k ground truth (Philbin et al., CVPR 2007 / 2008): per query the files
/// <c>&lt;name&gt;_&lt;n&gt;_query.txt</c> (image and box), <c>_good.txt</c>, <c>_ok.txt</c> and <c>_junk.txt</c>.
/// Positives are good ∪ ok, junk is ignored, and the AP is the trapezoid of Oxford's <c>compute_ap</c>
/// (<see cref="InstanceRetrievalMetrics"/>). Queries are ordered by file name.
/// </summary>
public sealed class OxfordParisGroundTruth
{
    private const string QuerySuffix = "_query.txt";
    private const string OxfordPrefix = "oxc1_"; // Oxford's query files name images with this prefix; the image files do not.

    private OxfordParisGroundTruth(IReadOnlyList<string> imageNames, IReadOnlyList<RevisitedQuery> queries)
    {
        ImageNames = imageNames;
        Queries = queries;
    }

    /// <summary>Database image names (without extension), in database order.</summary>
    public IReadOnlyList<string> ImageNames { get; }

    /// <summary>
    /// The queries: <see cref="RevisitedQuery.Easy"/> holds the good images, <see cref="RevisitedQuery.Hard"/> the ok
    /// images and <see cref="RevisitedQuery.Junk"/> the junk images.
    /// </summary>
    public IReadOnlyList<RevisitedQuery> Queries { get; }

    /// <summary>Positives (good ∪ ok) and junk of every query.</summary>
    public IReadOnlyList<QueryJudgments> Judgments() => Queries.Select(q => new QueryJudgments([.. q.Easy, .. q.Hard], q.Junk)).ToArray();

    /// <summary>Reads the ground-truth directory.</summary>
    /// <param name="directory">Directory of the <c>*_query.txt</c>, <c>*_good.txt</c>, <c>*_ok.txt</c> and <c>*_junk.txt</c> files.</param>
    /// <param name="imageNames">Database image names without extension, in database order (e.g. the sorted file names of the image folder).</param>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="InvalidDataException">A file is malformed, missing, or names an image not in the database.</exception>
    public static OxfordParisGroundTruth Load(string directory, IReadOnlyList<string> imageNames)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(imageNames);
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Ground-truth directory '{directory}' does not exist.");
        var positions = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < imageNames.Count; i++)
        {
            if (!positions.TryAdd(imageNames[i], i))
                throw new ArgumentException($"imageNames repeats '{imageNames[i]}'.", nameof(imageNames));
        }

        string[] queryFiles = Directory.GetFiles(directory, "*" + QuerySuffix);
        Array.Sort(queryFiles, StringComparer.Ordinal);
        if (queryFiles.Length == 0)
            throw new InvalidDataException($"'{directory}' holds no *{QuerySuffix} files.");
        var queries = new List<RevisitedQuery>(queryFiles.Length);
        foreach (string queryFile in queryFiles)
        {
            string stem = queryFile[..^QuerySuffix.Length];
            string[] fields = File.ReadAllText(queryFile).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 5)
                throw new InvalidDataException($"'{queryFile}': expected an image name and four box coordinates, got {fields.Length} fields.");
            var box = new double[4];
            for (int i = 0; i < 4; i++)
            {
                if (!double.TryParse(fields[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out box[i]))
                    throw new InvalidDataException($"'{queryFile}': '{fields[i + 1]}' is not a number.");
            }

            string name = fields[0].StartsWith(OxfordPrefix, StringComparison.Ordinal) ? fields[0][OxfordPrefix.Length..] : fields[0];
            queries.Add(new RevisitedQuery(name, new QueryBoundingBox(box[0], box[1], box[2], box[3]),
                ReadList(stem + "_good.txt", positions), ReadList(stem + "_ok.txt", positions), ReadList(stem + "_junk.txt", positions)));
        }

        return new OxfordParisGroundTruth(imageNames.ToArray(), queries);
    }

    private static int[] ReadList(string path, Dictionary<string, int> positions)
    {
        if (!File.Exists(path))
            throw new InvalidDataException($"Ground-truth file '{path}' is missing.");
        var result = new List<int>();
        foreach (string line in File.ReadLines(path))
        {
            string name = line.Trim();
            if (name.Length == 0) continue;
            if (!positions.TryGetValue(name, out int position))
                throw new InvalidDataException($"'{path}' names image '{name}', which is not in the database.");
            result.Add(position);
        }

        return result.ToArray();
    }
}
