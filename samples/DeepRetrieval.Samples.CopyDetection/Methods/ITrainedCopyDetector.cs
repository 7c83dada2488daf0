namespace DeepRetrieval.Samples.CopyDetection.Methods;

/// <summary>
/// A method that learns a model (a visual vocabulary, a PCA, a Gaussian mixture) from some of the references before it can
/// index them. The benchmark adds every reference first, then calls <see cref="Train"/> with the distractors' ids (never an
/// original: the model must not have seen what the copies were made from), then <see cref="IndexReferences"/>, then scores
/// the queries.
/// </summary>
internal interface ITrainedCopyDetector : ICopyDetector
{
    /// <summary>Learns the model from the references with these ids.</summary>
    /// <param name="trainingIds">Reference ids (the order of <see cref="ICopyDetector.AddReference"/>) to learn from.</param>
    void Train(IReadOnlyList<int> trainingIds);

    /// <summary>Encodes and indexes every reference with the trained model.</summary>
    /// <exception cref="InvalidOperationException"><see cref="Train"/> has not run.</exception>
    void IndexReferences();
}
