using DeepRetrieval.Evaluation;
using DeepRetrieval.Evaluation.Protocols;
using DeepRetrieval.Samples.CopyDetection.Copies;
using DeepRetrieval.Samples.CopyDetection.Photos;

namespace DeepRetrieval.Samples.CopyDetection.Evaluation;

/// <summary>
/// Scores one method's (copy × reference) score matrix: Recall@1 and mAP from each copy's ranking of all references, and
/// the ISC 2021 micro-AP and recall at precision 0.9 from one list of every (copy, reference) pair through the library's
/// <see cref="CopyDetectionMetrics"/>. Ties are broken against the method everywhere, as isc2021 does: a reference scored
/// equal to the original ranks before it, so a hash that puts many references at the same distance gains nothing by luck.
/// </summary>
internal static class CopyDetectionEvaluator
{
    private const int CurvePoints = 400;

    /// <param name="method">The method's name.</param>
    /// <param name="scores">One row per copy (in <paramref name="copies"/> order), one score per reference (in <paramref name="references"/> order).</param>
    /// <param name="copies">The queries.</param>
    /// <param name="references">The database.</param>
    /// <param name="transforms">The edits, in table order.</param>
    /// <param name="millisecondsPerImage">Measured cost, carried into the result.</param>
    public static MethodResult Evaluate(string method, IReadOnlyList<float[]> scores, IReadOnlyList<CopyItem> copies, IReadOnlyList<Photo> references,
        IReadOnlyList<string> transforms, double millisecondsPerImage)
    {
        if (scores.Count != copies.Count) throw new ArgumentException($"{scores.Count} score rows for {copies.Count} copies.", nameof(scores));
        Dictionary<string, int> referenceIndex = references.Select((p, i) => (p.Key, i)).ToDictionary(x => x.Key, x => x.i, StringComparer.Ordinal);
        int width = references.Count;

        // Each copy's ranking of all references: only the original's (pessimistic) rank matters, one relevant item per list.
        var relevance = new bool[copies.Count * width];
        var relevantCounts = new int[copies.Count];
        var rankOne = new bool[copies.Count];
        for (int q = 0; q < copies.Count; q++)
        {
            float[] row = scores[q];
            if (row.Length != width) throw new ArgumentException($"Score row {q} has {row.Length} values for {width} references.", nameof(scores));
            int truth = referenceIndex[copies[q].Original.Key];
            int rank = 0;
            for (int r = 0; r < width; r++)
            {
                if (r != truth && row[r] >= row[truth]) rank++;
            }
            relevance[q * width + rank] = true;
            relevantCounts[q] = 1;
            rankOne[q] = rank == 0;
        }
        double recallAt1 = rankOne.Count(hit => hit) / (double)copies.Count;
        double map = RetrievalMetrics.MeanAveragePrecision(relevance, width, relevantCounts);

        var groundTruth = copies.Select(c => new CopyDetectionGroundTruth(c.Id, c.Original.Key)).ToList();
        var predictions = new List<CopyDetectionPrediction>(copies.Count * width);
        for (int q = 0; q < copies.Count; q++)
            for (int r = 0; r < width; r++) predictions.Add(new CopyDetectionPrediction(copies[q].Id, references[r].Key, scores[q][r]));
        CopyDetectionResult isc = CopyDetectionMetrics.Evaluate(groundTruth, predictions);

        var byTransform = transforms.Select(t =>
        {
            int[] members = [.. Enumerable.Range(0, copies.Count).Where(q => copies[q].Transform.Name == t)];
            return new KeyValuePair<string, double>(t, members.Length == 0 ? double.NaN : members.Count(q => rankOne[q]) / (double)members.Length);
        }).ToList();

        return new MethodResult(method, recallAt1, map, isc.AveragePrecision, isc.RecallAtPrecision90, isc.ThresholdAtPrecision90, byTransform,
            Curve(scores, copies, references, referenceIndex), millisecondsPerImage);
    }

    /// <summary>Precision and recall after each true pair of the ISC list (score descending, wrong pairs first among equal scores).</summary>
    private static PrecisionRecallPoint[] Curve(IReadOnlyList<float[]> scores, IReadOnlyList<CopyItem> copies, IReadOnlyList<Photo> references,
        Dictionary<string, int> referenceIndex)
    {
        int width = references.Count;
        var pairs = new (float Score, bool Correct)[copies.Count * width];
        for (int q = 0; q < copies.Count; q++)
        {
            int truth = referenceIndex[copies[q].Original.Key];
            for (int r = 0; r < width; r++) pairs[q * width + r] = (scores[q][r], r == truth);
        }
        Array.Sort(pairs, (a, b) => b.Score != a.Score ? b.Score.CompareTo(a.Score) : a.Correct.CompareTo(b.Correct));
        var points = new List<PrecisionRecallPoint>();
        int found = 0, step = Math.Max(1, copies.Count / CurvePoints);
        for (int i = 0; i < pairs.Length && found < copies.Count; i++)
        {
            if (!pairs[i].Correct) continue;
            found++;
            if (found % step == 0 || found == copies.Count) points.Add(new PrecisionRecallPoint(found / (double)copies.Count, found / (double)(i + 1)));
        }
        return [.. points];
    }
}
