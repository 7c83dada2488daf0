using DeepRetrieval.Data;

namespace DeepRetrieval.Evaluation.Protocols;

/// <summary>
/// The ground truth of revisited Oxford or Paris (Radenović, Iscen, Tolias, Avrithis and Chum, CVPR 2018), as the
/// official <c>gnd_roxford5k.pkl</c> / <c>gnd_rparis6k.pkl</c> hold it: the database image names (<c>imlist</c>), the
/// query image names (<c>qimlist</c>), and per query its box and its easy, hard and junk database positions.
/// </summary>
public sealed class RevisitedGroundTruth
{
    /// <summary>Creates ground truth from its parts, checking every position against the database.</summary>
    /// <param name="imageNames">Database image names, in database order.</param>
    /// <param name="queries">The queries.</param>
    /// <exception cref="ArgumentException">A position is outside the database.</exception>
    public RevisitedGroundTruth(IReadOnlyList<string> imageNames, IReadOnlyList<RevisitedQuery> queries)
    {
        ArgumentNullException.ThrowIfNull(imageNames);
        ArgumentNullException.ThrowIfNull(queries);
        for (int q = 0; q < queries.Count; q++)
        {
            RevisitedQuery query = queries[q] ?? throw new ArgumentException($"queries[{q}] is null.", nameof(queries));
            foreach (int position in query.Easy.Concat(query.Hard).Concat(query.Junk))
            {
                if (position < 0 || position >= imageNames.Count)
                    throw new ArgumentException($"Query {q} ({query.Name}) lists database position {position}, outside 0..{imageNames.Count - 1}.", nameof(queries));
            }
        }

        ImageNames = imageNames.ToArray();
        Queries = queries.ToArray();
    }

    /// <summary>Database image names (without extension), in database order.</summary>
    public IReadOnlyList<string> ImageNames { get; }

    /// <summary>The queries, in the order of <c>qimlist</c>.</summary>
    public IReadOnlyList<RevisitedQuery> Queries { get; }

    /// <summary>Positives and junk of every query under one protocol.</summary>
    /// <param name="setting">Easy, Medium or Hard.</param>
    public IReadOnlyList<QueryJudgments> JudgmentsFor(RevisitedSetting setting) => Queries.Select(q => q.JudgmentsFor(setting)).ToArray();

    /// <summary>Reads an official ground-truth pickle.</summary>
    /// <param name="path">Path of <c>gnd_roxford5k.pkl</c> or <c>gnd_rparis6k.pkl</c>.</param>
    /// <exception cref="InvalidDataException">The file is not a revisitop ground-truth pickle.</exception>
    public static RevisitedGroundTruth Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using FileStream stream = File.OpenRead(path);
        return Read(stream, path);
    }

    /// <summary>Reads an official ground-truth pickle from a stream.</summary>
    /// <param name="stream">The pickle's bytes.</param>
    /// <param name="sourceName">Name used in error messages.</param>
    /// <exception cref="InvalidDataException">The stream is not a revisitop ground-truth pickle.</exception>
    public static RevisitedGroundTruth Read(Stream stream, string sourceName = "ground-truth pickle")
    {
        ArgumentNullException.ThrowIfNull(stream);
        object? root = PickleReader.Read(stream, sourceName);
        InvalidDataException Bad(string problem) => new($"{sourceName}: {problem}.");
        if (root is not Dictionary<object, object?> dict) throw Bad("the pickle does not hold a dict");
        object? Field(Dictionary<object, object?> d, string key, string where) =>
            d.TryGetValue(key, out object? value) ? value : throw Bad($"{where} has no '{key}' entry");

        string[] imageNames = Strings(Field(dict, "imlist", "the dict"), "imlist", Bad);
        string[] queryNames = Strings(Field(dict, "qimlist", "the dict"), "qimlist", Bad);
        if (Field(dict, "gnd", "the dict") is not List<object?> gnd) throw Bad("'gnd' is not a list");
        if (gnd.Count != queryNames.Length) throw Bad($"'gnd' has {gnd.Count} entries but 'qimlist' {queryNames.Length}");
        var queries = new RevisitedQuery[gnd.Count];
        for (int q = 0; q < gnd.Count; q++)
        {
            if (gnd[q] is not Dictionary<object, object?> entry) throw Bad($"gnd[{q}] is not a dict");
            double[] box = Numbers(Field(entry, "bbx", $"gnd[{q}]"), $"gnd[{q}]['bbx']", Bad);
            if (box.Length != 4) throw Bad($"gnd[{q}]['bbx'] holds {box.Length} numbers, not 4");
            queries[q] = new RevisitedQuery(queryNames[q], new QueryBoundingBox(box[0], box[1], box[2], box[3]),
                Positions(Field(entry, "easy", $"gnd[{q}]"), $"gnd[{q}]['easy']", imageNames.Length, Bad),
                Positions(Field(entry, "hard", $"gnd[{q}]"), $"gnd[{q}]['hard']", imageNames.Length, Bad),
                Positions(Field(entry, "junk", $"gnd[{q}]"), $"gnd[{q}]['junk']", imageNames.Length, Bad));
        }

        return new RevisitedGroundTruth(imageNames, queries);
    }

    private static string[] Strings(object? value, string name, Func<string, InvalidDataException> bad) =>
        value is List<object?> list && list.All(v => v is string)
            ? list.Cast<string>().ToArray()
            : throw bad($"'{name}' is not a list of strings");

    private static double[] Numbers(object? value, string name, Func<string, InvalidDataException> bad) => value switch
    {
        double[] array => array,
        long[] array => array.Select(v => (double)v).ToArray(),
        IEnumerable<object?> items when items.All(v => v is double or long) => items.Select(v => Convert.ToDouble(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray(),
        _ => throw bad($"{name} is not a sequence of numbers"),
    };

    private static int[] Positions(object? value, string name, int count, Func<string, InvalidDataException> bad)
    {
        long[] positions = value switch
        {
            long[] array => array,
            IEnumerable<object?> items when items.All(v => v is long) => items.Cast<long>().ToArray(),
            _ => throw bad($"{name} is not a sequence of integers"),
        };
        foreach (long p in positions)
            if (p < 0 || p >= count) throw bad($"{name} holds {p}, outside the {count} database images");
        return positions.Select(p => (int)p).ToArray();
    }
}
