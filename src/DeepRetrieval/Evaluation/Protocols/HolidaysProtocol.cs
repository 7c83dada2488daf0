using System.Globalization;

namespace DeepRetrieval.Evaluation.Protocols;

/// <summary>
/// INRIA Holidays (Jégou, Douze and Schmid, ECCV 2008) as its <c>holidays_map.py</c> scores it: images are named by a
/// six-digit number; the images whose number is a multiple of 100 are the queries, each with the other images of its
/// hundred as positives; the query itself is skipped in its own results; the AP is the trapezoid of
/// <see cref="InstanceRetrievalMetrics"/> and the mAP its mean over the queries.
/// </summary>
public static class HolidaysProtocol
{
    /// <summary>The queries and their judgments, from the database image names.</summary>
    /// <param name="imageNames">Database image names (e.g. <c>100000.jpg</c> or <c>100000</c>), in database order.</param>
    /// <returns>The database position of each query and its judgments (positives: its group; junk: itself).</returns>
    /// <exception cref="ArgumentException">A name does not start with a number.</exception>
    public static (int[] QueryPositions, QueryJudgments[] Judgments) Judgments(IReadOnlyList<string> imageNames)
    {
        ArgumentNullException.ThrowIfNull(imageNames);
        var numbers = new int[imageNames.Count];
        var groups = new Dictionary<int, List<int>>();
        for (int i = 0; i < imageNames.Count; i++)
        {
            string stem = Path.GetFileNameWithoutExtension(imageNames[i]);
            if (!int.TryParse(stem, NumberStyles.None, CultureInfo.InvariantCulture, out numbers[i]))
                throw new ArgumentException($"imageNames[{i}] = '{imageNames[i]}' is not a Holidays image number.", nameof(imageNames));
            int group = numbers[i] / 100;
            if (!groups.TryGetValue(group, out List<int>? members)) groups[group] = members = [];
            members.Add(i);
        }

        var queries = new List<int>();
        var judgments = new List<QueryJudgments>();
        for (int i = 0; i < numbers.Length; i++)
        {
            if (numbers[i] % 100 != 0) continue;
            queries.Add(i);
            judgments.Add(new QueryJudgments(groups[numbers[i] / 100].Where(j => j != i).ToArray(), [i]));
        }

        return (queries.ToArray(), judgments.ToArray());
    }

    /// <summary>mAP of rankings of the Holidays queries.</summary>
    /// <param name="ranks">One row of <paramref name="width"/> database positions per query of <see cref="Judgments"/>, in that order.</param>
    /// <param name="width">Positions per query.</param>
    /// <param name="imageNames">Database image names, in database order.</param>
    public static InstanceRetrievalResult Evaluate(ReadOnlySpan<long> ranks, int width, IReadOnlyList<string> imageNames) =>
        InstanceRetrievalMetrics.ComputeMap(ranks, width, Judgments(imageNames).Judgments);
}
