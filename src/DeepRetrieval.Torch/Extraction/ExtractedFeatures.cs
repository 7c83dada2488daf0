using DeepRetrieval.Data;
using DeepRetrieval.Indexes;
using DeepRetrieval.Torch.Data;

namespace DeepRetrieval.Torch.Extraction;

/// <summary>
/// The embeddings of a <see cref="FeatureExtractor"/> run: <see cref="Count"/> rows of <see cref="Dimension"/> floats,
/// row-major, with the id of each row (skipped images have no row), ready for any <see cref="IVectorIndex"/> or a
/// <c>.npy</c> file.
/// </summary>
public sealed class ExtractedFeatures
{
    /// <summary>Wraps extracted rows (not copied).</summary>
    /// <param name="ids">One id per row.</param>
    /// <param name="vectors">ids.Length × dimension values, row-major.</param>
    /// <param name="dimension">Values per row (0 only when there are no rows).</param>
    /// <param name="skipped">Images left out of the run.</param>
    /// <param name="elapsed">Duration of the run.</param>
    /// <param name="labels">The class label of each row, or null when the source has none.</param>
    /// <exception cref="ArgumentException">The vector count does not match ids × dimension, the labels do not match the ids, or the dimension is negative.</exception>
    public ExtractedFeatures(long[] ids, float[] vectors, int dimension, IReadOnlyList<SkippedImage> skipped, TimeSpan elapsed, long[]? labels = null)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentNullException.ThrowIfNull(skipped);
        ArgumentOutOfRangeException.ThrowIfNegative(dimension);
        if ((long)ids.Length * dimension != vectors.LongLength)
            throw new ArgumentException($"vectors must hold ids × dimension = {ids.Length} × {dimension} values; got {vectors.LongLength}.", nameof(vectors));
        if (labels is not null && labels.Length != ids.Length)
            throw new ArgumentException($"Expected one label per row ({ids.Length}); got {labels.Length}.", nameof(labels));
        Ids = ids;
        Labels = labels;
        Vectors = vectors;
        Dimension = dimension;
        Skipped = skipped;
        Elapsed = elapsed;
    }

    /// <summary>The id of each row.</summary>
    public long[] Ids { get; }

    /// <summary>The class label of each row (from the source's batches), or null when the source has no labels.</summary>
    public long[]? Labels { get; }

    /// <summary>All rows, row-major: row i is <c>Vectors[i·Dimension .. (i+1)·Dimension)</c>.</summary>
    public float[] Vectors { get; }

    /// <summary>Values per row.</summary>
    public int Dimension { get; }

    /// <summary>Number of rows (embedded images).</summary>
    public int Count => Ids.Length;

    /// <summary>The images left out because they could not be read, in source order.</summary>
    public IReadOnlyList<SkippedImage> Skipped { get; }

    /// <summary>Duration of the run.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>Embedded images per second of the run.</summary>
    public double ImagesPerSecond => Elapsed > TimeSpan.Zero ? Count / Elapsed.TotalSeconds : 0;

    /// <summary>Row <paramref name="row"/> (not the id) as a span over <see cref="Vectors"/>.</summary>
    /// <param name="row">0 ≤ row &lt; <see cref="Count"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">row is out of range.</exception>
    public ReadOnlySpan<float> GetVector(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Count);
        return Vectors.AsSpan(row * Dimension, Dimension);
    }

    /// <summary>The rows as separate arrays (copies).</summary>
    public float[][] ToJaggedArray()
    {
        var rows = new float[Count][];
        for (int i = 0; i < rows.Length; i++)
            rows[i] = GetVector(i).ToArray();
        return rows;
    }

    /// <summary>The rows as a <see cref="VectorSet{T}"/> sharing <see cref="Vectors"/>.</summary>
    public VectorSet<float> ToVectorSet() => new(Count, Dimension, Vectors);

    /// <summary>
    /// Puts the rows into an index under their ids: trains it on them first when it is not yet trained (an index that learns
    /// from data, such as IVF or PQ, is thus trained on this very set), then adds them.
    /// </summary>
    /// <param name="index">The index; its dimension must equal <see cref="Dimension"/>.</param>
    /// <exception cref="ArgumentException">The dimensions differ, or an id is already in the index.</exception>
    public void AddTo(IVectorIndex index)
    {
        ArgumentNullException.ThrowIfNull(index);
        if (Count > 0 && index.Dimension != Dimension)
            throw new ArgumentException($"The index takes {index.Dimension}-dimensional vectors; the features have {Dimension}.", nameof(index));
        index.TrainAndAdd(Vectors, Ids);
    }

    /// <summary>Writes the rows to a float32 <c>.npy</c> file of shape (<see cref="Count"/>, <see cref="Dimension"/>); row i has id <c>Ids[i]</c>.</summary>
    /// <param name="path">Destination file; replaced if it exists.</param>
    public void SaveNpy(string path) => NpyWriter.Write(path, Vectors, Count, Dimension);
}
