using DeepRetrieval.Imaging;

namespace DeepRetrieval.Samples.CopyDetection.Methods;

/// <summary>
/// One copy-detection method: it indexes the reference images, then scores every reference for a query image. Scores are
/// higher for more similar images and comparable across queries (the ISC 2021 micro-AP ranks all (query, reference) pairs
/// in one list).
/// </summary>
internal interface ICopyDetector : IDisposable
{
    /// <summary>Name in tables and plots.</summary>
    string Name { get; }

    /// <summary>Adds the next reference (ids 0, 1, 2 … in call order).</summary>
    void AddReference(PixelImage image);

    /// <summary>Scores every reference for one query.</summary>
    /// <param name="query">The query image.</param>
    /// <param name="earlier">The scores the methods listed before this one gave the same query, by method name (a re-ranker reads its short list there).</param>
    /// <returns>One score per reference id.</returns>
    float[] Score(PixelImage query, IReadOnlyDictionary<string, float[]> earlier);

    /// <summary>A score as a short caption for the result grid ("12 bits", "cos 0.83", "240 inliers").</summary>
    string Caption(float score);
}
