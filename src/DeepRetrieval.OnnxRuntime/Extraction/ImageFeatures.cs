using DeepRetrieval.Data;
using DeepRetrieval.Imaging.IO;
using DeepRetrieval.Indexes;

namespace DeepRetrieval.OnnxRuntime.Extraction;

/// <summary>
/// The embeddings of an <see cref="OnnxFeatureExtractor"/> run over files: <see cref="Count"/> rows of <see cref="Dimension"/>
/// floats, row-major, in file order, each with its id (the file's position in the run's list) and path; skipped files have no
/// row. Ready for any <see cref="IVectorIndex"/> or a <c>.npy</c> file.
/// </summary>
public sealed class ImageFeatures
{
    /// <summary>Wraps extracted rows (not copied).</summary>
    /// <param name="ids">One id per row.</param>
    /// <param name="paths">One file per row.</param>
    /// <param name="vectors">ids.Length × dimension values, row-major.</param>
    /// <param name="dimension">Values per row.</param>
    /// <param name="skipped">Files left out.</param>
    /// <param name="times">Where the run spent its time.</param>
    /// <exception cref="ArgumentException">The lengths do not agree.</exception>
    public ImageFeatures(long[] ids, string[] paths, float[] vectors, int dimension, IReadOnlyList<SkippedImage> skipped, ExtractionStageTimes times)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentNullException.ThrowIfNull(skipped);
        ArgumentNullException.ThrowIfNull(times);
        ArgumentOutOfRangeException.ThrowIfNegative(dimension);
        if (paths.Length != ids.Length)
            throw new ArgumentException($"Expected one path per id ({ids.Length}); got {paths.Length}.", nameof(paths));
        if ((long)ids.Length * dimension != vectors.LongLength)
            throw new ArgumentException($"vectors must hold ids × dimension = {ids.Length} × {dimension} values; got {vectors.LongLength}.", nameof(vectors));
        Ids = ids;
        Paths = paths;
        Vectors = vectors;
        Dimension = dimension;
        Skipped = skipped;
        Times = times;
    }

    /// <summary>The id of each row: the file's position in the run's (sorted) file list.</summary>
    public long[] Ids { get; }

    /// <summary>The file of each row.</summary>
    public string[] Paths { get; }

    /// <summary>All rows, row-major.</summary>
    public float[] Vectors { get; }

    /// <summary>Values per row.</summary>
    public int Dimension { get; }

    /// <summary>Number of rows.</summary>
    public int Count => Ids.Length;

    /// <summary>Files that could not be read (corrupt, truncated, empty, not an image, too large, unreadable), in list order.</summary>
    public IReadOnlyList<SkippedImage> Skipped { get; }

    /// <summary>Where the run spent its time.</summary>
    public ExtractionStageTimes Times { get; }

    /// <summary>Row <paramref name="row"/> as a span over <see cref="Vectors"/>.</summary>
    /// <param name="row">0 ≤ row &lt; <see cref="Count"/>.</param>
    public ReadOnlySpan<float> GetVector(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Count);
        return Vectors.AsSpan(row * Dimension, Dimension);
    }

    /// <summary>Puts the rows into an index under their ids, training it on them first when it is not trained yet.</summary>
    /// <param name="index">The index; its dimension must equal <see cref="Dimension"/>.</param>
    /// <exception cref="ArgumentException">The dimensions differ, or an id is already in the index.</exception>
    public void AddTo(IVectorIndex index)
    {
        ArgumentNullException.ThrowIfNull(index);
        if (Count > 0 && index.Dimension != Dimension)
            throw new ArgumentException($"The index takes {index.Dimension}-dimensional vectors; the features have {Dimension}.", nameof(index));
        index.TrainAndAdd(Vectors, Ids);
    }

    /// <summary>Writes the rows to a float32 <c>.npy</c> file of shape (<see cref="Count"/>, <see cref="Dimension"/>), atomically.</summary>
    /// <param name="path">Destination file; replaced if it exists.</param>
    public void SaveNpy(string path) => NpyWriter.Write(path, Vectors, Count, Dimension);
}
