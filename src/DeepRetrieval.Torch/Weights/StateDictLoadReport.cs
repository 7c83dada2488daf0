using System.Text;

namespace DeepRetrieval.Torch.Weights;

/// <summary>A parameter or buffer whose shape in the checkpoint differs from the module's.</summary>
/// <param name="Key">The module's key.</param>
/// <param name="ExpectedShape">The module's shape.</param>
/// <param name="CheckpointShape">The checkpoint's shape.</param>
public sealed record ShapeMismatch(string Key, IReadOnlyList<long> ExpectedShape, IReadOnlyList<long> CheckpointShape)
{
    /// <summary>"key: module [a, b], checkpoint [c, d]".</summary>
    public override string ToString() => $"{Key}: module [{string.Join(", ", ExpectedShape)}], checkpoint [{string.Join(", ", CheckpointShape)}]";
}

/// <summary>
/// What <see cref="StateDict.Load"/> did: the keys it copied, the module keys the checkpoint lacks, the checkpoint keys the
/// module lacks (after mapping; dropped keys are listed separately) and the keys present in both with different shapes.
/// </summary>
/// <param name="Loaded">Module keys that received a value.</param>
/// <param name="Missing">Module keys with no value in the checkpoint (they keep their current values).</param>
/// <param name="Unexpected">Mapped checkpoint keys the module does not have.</param>
/// <param name="ShapeMismatched">Keys in both whose shapes differ (not copied).</param>
/// <param name="Dropped">Checkpoint keys the key mapping dropped on purpose.</param>
public sealed record StateDictLoadReport(
    IReadOnlyList<string> Loaded,
    IReadOnlyList<string> Missing,
    IReadOnlyList<string> Unexpected,
    IReadOnlyList<ShapeMismatch> ShapeMismatched,
    IReadOnlyList<string> Dropped)
{
    /// <summary>True when every module key was loaded and nothing was unexpected or mismatched.</summary>
    public bool IsExact => Missing.Count == 0 && Unexpected.Count == 0 && ShapeMismatched.Count == 0;

    /// <summary>A readable summary listing every problem key.</summary>
    public override string ToString()
    {
        var text = new StringBuilder($"Loaded {Loaded.Count} tensors");
        if (Dropped.Count > 0) text.Append($", dropped {Dropped.Count} by the key mapping");
        text.Append('.');
        if (Missing.Count > 0) text.Append($" Missing from the checkpoint ({Missing.Count}): {string.Join(", ", Missing)}.");
        if (Unexpected.Count > 0) text.Append($" Unexpected in the checkpoint ({Unexpected.Count}): {string.Join(", ", Unexpected)}.");
        if (ShapeMismatched.Count > 0) text.Append($" Shape mismatches ({ShapeMismatched.Count}): {string.Join("; ", ShapeMismatched)}.");
        return text.ToString();
    }
}
