namespace DeepRetrieval.Evaluation.Protocols;

/// <summary>
/// The Google Landmarks v2 metrics as DELF's <c>metrics.py</c> computes them: Global Average Precision for
/// recognition and mean average precision at 100 for retrieval.
/// </summary>
public static class GoogleLandmarksMetrics
{
    /// <summary>
    /// Global Average Precision (micro AP with confidence): all predictions sorted by score (descending), ties by
    /// test image id then landmark (ascending, ordinal), precision accumulated at every correct one, divided by the
    /// number of test images that have ground truth. Predictions for images without ground truth count as wrong
    /// unless <paramref name="ignoreNonGroundTruthImages"/> (the challenge leaves it false).
    /// </summary>
    /// <param name="predictions">One prediction per test image.</param>
    /// <param name="solution">Ground-truth landmarks of every test image (empty for an image without landmark).</param>
    /// <param name="ignoreNonGroundTruthImages">Skip predictions for images without ground truth.</param>
    /// <returns>GAP in [0, 1]; NaN when no test image has ground truth (DELF divides by zero).</returns>
    /// <exception cref="ArgumentException">A prediction is for an image not in the solution.</exception>
    public static double GlobalAveragePrecision(IReadOnlyDictionary<string, LandmarkPrediction> predictions,
        IReadOnlyDictionary<string, IReadOnlyList<long>> solution, bool ignoreNonGroundTruthImages = false)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(solution);
        int positives = solution.Values.Count(v => v.Count > 0);
        var sorted = predictions.OrderBy(p => p.Key, StringComparer.Ordinal).ThenBy(p => p.Value.Landmark)
            .OrderByDescending(p => p.Value.Score).ToList();
        double gap = 0;
        int total = 0, correct = 0;
        foreach ((string id, LandmarkPrediction prediction) in sorted)
        {
            if (!solution.TryGetValue(id, out IReadOnlyList<long>? truth))
                throw new ArgumentException($"Test image {id} has a prediction but is not in the solution.", nameof(predictions));
            if (ignoreNonGroundTruthImages && truth.Count == 0) continue;
            total++;
            if (truth.Contains(prediction.Landmark))
            {
                correct++;
                gap += (double)correct / total;
            }
        }

        return positives == 0 ? double.NaN : gap / positives;
    }

    /// <summary>
    /// Mean average precision at <paramref name="maxPredictions"/>: for each predicted test image, precision at every
    /// correct index image among its first <paramref name="maxPredictions"/> (a repeated id is skipped but keeps its
    /// rank), divided by min(ground-truth size, <paramref name="maxPredictions"/>); summed over predicted images and
    /// divided by the number of images in the solution (an image without predictions scores 0).
    /// </summary>
    /// <param name="predictions">Ranked index ids per test image.</param>
    /// <param name="solution">Ground-truth index ids of every test image.</param>
    /// <param name="maxPredictions">The cut-off (100 in the challenge).</param>
    /// <exception cref="ArgumentException">A prediction is for an image not in the solution, or a ground truth is empty.</exception>
    public static double MeanAveragePrecision(IReadOnlyDictionary<string, IReadOnlyList<string>> predictions,
        IReadOnlyDictionary<string, IReadOnlyList<string>> solution, int maxPredictions = 100)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(solution);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPredictions);
        ShapeGuard.NotEmpty(solution.Count, nameof(solution));
        double sum = 0;
        foreach ((string id, IReadOnlyList<string> ranked) in predictions)
        {
            if (!solution.TryGetValue(id, out IReadOnlyList<string>? truth))
                throw new ArgumentException($"Test image {id} is not part of the solution.", nameof(predictions));
            if (truth.Count == 0)
                throw new ArgumentException($"Test image {id} has an empty ground truth; DELF divides by its size.", nameof(solution));
            var relevant = new HashSet<string>(truth, StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            double ap = 0;
            int correct = 0;
            for (int i = 0; i < Math.Min(ranked.Count, maxPredictions); i++)
            {
                if (!seen.Add(ranked[i])) continue;
                if (relevant.Contains(ranked[i]))
                {
                    correct++;
                    ap += (double)correct / (i + 1);
                }
            }

            sum += ap / Math.Min(truth.Count, maxPredictions);
        }

        return sum / solution.Count;
    }
}
