namespace DeepRetrieval.Samples.CopyDetection.Evaluation;

/// <summary>The outcome of a run: the data's size, each method's result, where the files went.</summary>
/// <param name="Originals">Photos with copies.</param>
/// <param name="Distractors">Photos without copies.</param>
/// <param name="Copies">Queries.</param>
/// <param name="Transforms">The edits, in table order.</param>
/// <param name="Methods">One result per method, in run order.</param>
/// <param name="ElapsedSeconds">Wall-clock time of the whole run (finding photos and making copies included).</param>
/// <param name="Files">The files written (tables, figures), empty when no output folder was given.</param>
internal sealed record BenchmarkReport(
    int Originals,
    int Distractors,
    int Copies,
    IReadOnlyList<string> Transforms,
    IReadOnlyList<MethodResult> Methods,
    double ElapsedSeconds,
    IReadOnlyList<string> Files)
{
    /// <summary>The result of the named method.</summary>
    /// <exception cref="KeyNotFoundException">No method of that name ran.</exception>
    public MethodResult this[string method] =>
        Methods.FirstOrDefault(m => m.Method == method) ?? throw new KeyNotFoundException($"No method '{method}' ran; ran: {string.Join(", ", Methods.Select(m => m.Method))}.");
}
