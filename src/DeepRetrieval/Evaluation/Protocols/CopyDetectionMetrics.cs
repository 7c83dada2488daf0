using System.Globalization;

namespace DeepRetrieval.Evaluation.Protocols;

/// <summary>
/// The Image Similarity Challenge 2021 metrics as facebookresearch/isc2021's <c>isc/metrics.py</c> computes them: all
/// (query, reference, score) predictions form one list sorted by decreasing score — wrong predictions first among
/// equal scores, the worst case, so constant scores cannot help — and μAP = Σ (rᵢ − rᵢ₋₁)·pᵢ over it with recall
/// relative to all true pairs; recall at precision 0.9 is the best recall of an operating point with precision at
/// least 0.9; recall at rank k ranks each true pair's reference among its query's predictions by score.
/// </summary>
public static class CopyDetectionMetrics
{
    private const long NotFound = 1L << 35; // isc2021's rank of a true pair that was never predicted

    /// <summary>Scores predictions against the ground truth.</summary>
    /// <param name="groundTruth">The true copy pairs (queries without a copy have none).</param>
    /// <param name="predictions">Predictions, at most one per (query, reference) pair.</param>
    /// <exception cref="ArgumentException">A pair is predicted twice, a score is NaN, or the ground truth is empty.</exception>
    public static CopyDetectionResult Evaluate(IReadOnlyList<CopyDetectionGroundTruth> groundTruth, IReadOnlyList<CopyDetectionPrediction> predictions)
    {
        ArgumentNullException.ThrowIfNull(groundTruth);
        ArgumentNullException.ThrowIfNull(predictions);
        ShapeGuard.NotEmpty(groundTruth.Count, nameof(groundTruth));
        var pairs = new HashSet<(string, string)>();
        foreach (CopyDetectionPrediction p in predictions)
        {
            if (double.IsNaN(p.Score)) throw new ArgumentException($"The prediction ({p.Query}, {p.Reference}) has a NaN score.", nameof(predictions));
            if (!pairs.Add((p.Query, p.Reference))) throw new ArgumentException($"Predictions contain ({p.Query}, {p.Reference}) more than once.", nameof(predictions));
        }

        var truth = groundTruth.Select(g => (g.Query, g.Reference)).ToHashSet();
        bool[] correct = predictions.Select(p => truth.Contains((p.Query, p.Reference))).ToArray();
        // Decreasing score, and among equal scores the wrong predictions first (isc2021 sorts (score, not correct) and reverses).
        int[] order = Enumerable.Range(0, predictions.Count)
            .OrderByDescending(i => predictions[i].Score).ThenBy(i => correct[i] ? 1 : 0).ThenByDescending(i => i).ToArray();

        double ap = 0, previousRecall = 0;
        double? bestRecall = null, bestThreshold = null;
        long truePositives = 0;
        for (int r = 0; r < order.Length; r++)
        {
            if (correct[order[r]]) truePositives++;
            double precision = (double)truePositives / (r + 1);
            double recall = (double)truePositives / groundTruth.Count;
            ap += (recall - previousRecall) * precision;
            previousRecall = recall;
            if (precision >= 0.9 && (bestRecall is null || recall > bestRecall))
            {
                bestRecall = recall;
                bestThreshold = predictions[order[r]].Score;
            }
        }

        (double rank1, double rank10) = RecallAtRanks(groundTruth, predictions);
        return new CopyDetectionResult(ap, bestRecall, bestThreshold, rank1, rank10);
    }

    /// <summary>Reads a ground-truth CSV (<c>query_id,reference_id</c>, header optional; an empty reference means no copy).</summary>
    /// <param name="reader">The CSV text.</param>
    /// <param name="source">Name used in error messages.</param>
    /// <exception cref="InvalidDataException">A line does not have two fields.</exception>
    public static List<CopyDetectionGroundTruth> ReadGroundTruth(TextReader reader, string source = "ground truth") =>
        Lines(reader, "query_id,reference_id", 2, source)
            .Where(f => f.Fields[1].Length > 0)
            .Select(f => new CopyDetectionGroundTruth(f.Fields[0], f.Fields[1]))
            .ToList();

    /// <summary>Reads a predictions CSV (<c>query_id,reference_id,score</c>, header optional).</summary>
    /// <param name="reader">The CSV text.</param>
    /// <param name="source">Name used in error messages.</param>
    /// <exception cref="InvalidDataException">A line does not have three fields or its score is not a number.</exception>
    public static List<CopyDetectionPrediction> ReadPredictions(TextReader reader, string source = "predictions") =>
        Lines(reader, "query_id,reference_id,score", 3, source)
            .Select(f => new CopyDetectionPrediction(f.Fields[0], f.Fields[1],
                double.TryParse(f.Fields[2], NumberStyles.Float, CultureInfo.InvariantCulture, out double score)
                    ? score
                    : throw new InvalidDataException($"{source}, line {f.Line}: '{f.Fields[2]}' is not a score.")))
            .ToList();

    // isc2021's readers: strip each line, skip the exact header, split on commas.
    private static IEnumerable<(int Line, string[] Fields)> Lines(TextReader reader, string header, int fieldCount, string source)
    {
        ArgumentNullException.ThrowIfNull(reader);
        int lineNumber = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            line = line.Trim();
            if (line == header) continue;
            string[] fields = line.Split(',');
            if (fields.Length != fieldCount)
                throw new InvalidDataException($"{source}, line {lineNumber}: expected {header}; found {fields.Length} fields.");
            yield return (lineNumber, fields);
        }
    }

    // For each true pair: among its query's predictions, the number with a score at least that of the first
    // prediction of the pair, minus one (isc2021's find_tp_ranks).
    private static (double Rank1, double Rank10) RecallAtRanks(IReadOnlyList<CopyDetectionGroundTruth> groundTruth, IReadOnlyList<CopyDetectionPrediction> predictions)
    {
        var byQuery = new Dictionary<string, List<CopyDetectionPrediction>>(StringComparer.Ordinal);
        foreach (CopyDetectionPrediction p in predictions)
        {
            if (!byQuery.TryGetValue(p.Query, out List<CopyDetectionPrediction>? list)) byQuery[p.Query] = list = [];
            list.Add(p);
        }

        int rank1 = 0, rank10 = 0;
        foreach (CopyDetectionGroundTruth match in groundTruth)
        {
            long rank = NotFound;
            if (byQuery.TryGetValue(match.Query, out List<CopyDetectionPrediction>? results))
            {
                int hit = results.FindIndex(p => p.Reference == match.Reference);
                if (hit >= 0) rank = results.Count(p => p.Score >= results[hit].Score) - 1;
            }

            if (rank == 0) rank1++;
            if (rank < 10) rank10++;
        }

        return ((double)rank1 / groundTruth.Count, (double)rank10 / groundTruth.Count);
    }
}
