namespace DeepRetrieval.Evaluation.Protocols;

/// <summary>
/// A Google Landmarks v2 solution file as DELF's <c>dataset_file_io.ReadSolution</c> reads it (header
/// <c>id,landmarks,Usage</c> or <c>id,images,Usage</c>): the ground truth of the Public and Private test images, and
/// the Ignored ones.
/// </summary>
/// <typeparam name="TTruth">Landmark ids (<see cref="long"/>) for recognition, index image ids (<see cref="string"/>) for retrieval.</typeparam>
public sealed class GoogleLandmarksSolution<TTruth>
{
    internal GoogleLandmarksSolution(Dictionary<string, IReadOnlyList<TTruth>> publicSolution, Dictionary<string, IReadOnlyList<TTruth>> privateSolution, HashSet<string> ignored)
    {
        Public = publicSolution;
        Private = privateSolution;
        Ignored = ignored;
    }

    /// <summary>Ground truth of the Public test images (an empty list for a recognition image without landmark).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<TTruth>> Public { get; }

    /// <summary>Ground truth of the Private test images.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<TTruth>> Private { get; }

    /// <summary>Test images left out of scoring.</summary>
    public IReadOnlySet<string> Ignored { get; }
}
