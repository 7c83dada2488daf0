using DeepRetrieval.Clustering;
using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Hnsw;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Aggregation;

/// <summary>
/// A visual vocabulary: K cluster centres ("visual words") of local descriptors, learned by <see cref="KMeans"/>
/// (Sivic &amp; Zisserman, "Video Google", ICCV 2003). It assigns descriptors to words by nearest centre, hard or soft,
/// and is the quantizer that bag-of-words, VLAD and ASMK share. Assignment is exact through a <see cref="FlatIndex"/>
/// over the centres; vocabularies of 100k words and more should be given an approximate
/// <see cref="AssignmentIndex"/> (for example an <see cref="HnswIndex"/> over <see cref="Centroids"/>), as Philbin et
/// al. do with randomised k-d trees, since exact assignment then costs K distances per descriptor.
/// </summary>
/// <remarks>Assignment is thread-safe; the vocabulary is immutable once built.</remarks>
public sealed class VisualVocabulary
{
    /// <summary>The kind name of saved vocabularies in the index container.</summary>
    public const string KindName = "VisualVocabulary";

    private readonly Lazy<FlatIndex> _exact;

    /// <summary>Wraps trained centres.</summary>
    /// <param name="centroids">Row-major K × <paramref name="dimension"/> centres, all finite; kept, not copied.</param>
    /// <param name="dimension">Components per centre (the descriptor length); positive.</param>
    /// <param name="assignmentIndex">
    /// Optional index over the centres used for assignment instead of exact search: the same dimension, an L2 metric,
    /// and ids 0 … K − 1 standing for the words (as filling an empty index with <see cref="Centroids"/> gives).
    /// </param>
    /// <exception cref="ArgumentException">The dimension does not divide the centres, there are none, a value is not finite, or the index does not fit.</exception>
    public VisualVocabulary(float[] centroids, int dimension, IVectorIndex? assignmentIndex = null)
    {
        ArgumentNullException.ThrowIfNull(centroids);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (centroids.Length == 0 || centroids.Length % dimension != 0)
            throw new ArgumentException($"The centres must be a non-empty K × {dimension} matrix; got {centroids.Length} values.", nameof(centroids));
        if (!FiniteValues.All(centroids))
            throw new ArgumentException("Visual word centres must be finite.", nameof(centroids));
        Centroids = centroids;
        Dimension = dimension;
        Size = centroids.Length / dimension;
        if (assignmentIndex is not null)
        {
            if (assignmentIndex.Dimension != dimension)
                throw new ArgumentException($"The assignment index has dimension {assignmentIndex.Dimension}; the vocabulary has {dimension}.", nameof(assignmentIndex));
            if (assignmentIndex.Metric != Metric.L2)
                throw new ArgumentException($"The assignment index must use the L2 metric; it uses {assignmentIndex.Metric}.", nameof(assignmentIndex));
            if (assignmentIndex.Count != Size)
                throw new ArgumentException($"The assignment index holds {assignmentIndex.Count} vectors; the vocabulary has {Size} words.", nameof(assignmentIndex));
        }
        AssignmentIndex = assignmentIndex;
        _exact = new Lazy<FlatIndex>(() =>
        {
            var index = new FlatIndex(dimension);
            index.Add(centroids);
            return index;
        });
    }

    /// <summary>Number of words K.</summary>
    public int Size { get; }

    /// <summary>Components per word (the descriptor length).</summary>
    public int Dimension { get; }

    /// <summary>Row-major <see cref="Size"/> × <see cref="Dimension"/> centres.</summary>
    public float[] Centroids { get; }

    /// <summary>The approximate index used for assignment, or null for exact assignment.</summary>
    public IVectorIndex? AssignmentIndex { get; }

    /// <summary>Word <paramref name="word"/>'s centre.</summary>
    /// <param name="word">Zero-based word index.</param>
    public ReadOnlySpan<float> Centroid(int word)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(word);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(word, Size);
        return Centroids.AsSpan(word * Dimension, Dimension);
    }

    /// <summary>Learns a vocabulary of <paramref name="words"/> words from sample descriptors with <see cref="KMeans"/>.</summary>
    /// <param name="descriptors">Row-major training descriptors (pooled from many images), n × <paramref name="dimension"/>.</param>
    /// <param name="dimension">Components per descriptor; positive.</param>
    /// <param name="words">Vocabulary size K; positive and at most n.</param>
    /// <param name="options">k-means settings (seed, iterations, sub-sampling, threads); its K is replaced by <paramref name="words"/>. Null for defaults.</param>
    /// <param name="progress">Told after every k-means iteration.</param>
    /// <param name="cancellationToken">Checked before every iteration.</param>
    /// <exception cref="ArgumentException">Bad dimension, fewer descriptors than words, or non-finite values.</exception>
    public static VisualVocabulary Train(ReadOnlySpan<float> descriptors, int dimension, int words, KMeansOptions? options = null,
        IProgress<KMeansProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var kmeans = new KMeans((options ?? new KMeansOptions()) with { K = words, Metric = Metric.L2 });
        KMeansResult result = kmeans.Train(descriptors, dimension, progress, cancellationToken);
        return new VisualVocabulary(result.Centroids, dimension);
    }

    /// <summary>A vocabulary with the same centres that assigns through <paramref name="index"/> (see the constructor).</summary>
    /// <param name="index">An L2 index over <see cref="Centroids"/> with ids 0 … K − 1.</param>
    public VisualVocabulary WithAssignmentIndex(IVectorIndex index)
    {
        ArgumentNullException.ThrowIfNull(index);
        return new VisualVocabulary(Centroids, Dimension, index);
    }

    /// <summary>The nearest word of each descriptor (hard assignment).</summary>
    /// <param name="descriptors">Row-major descriptors, n × <see cref="Dimension"/>.</param>
    /// <param name="options">Threads and search knobs (for example <c>ef</c> of an HNSW assignment index); null for defaults.</param>
    /// <exception cref="ArgumentException">The descriptor length does not match the vocabulary, or a value is not finite.</exception>
    public int[] Assign(ReadOnlySpan<float> descriptors, SearchOptions? options = null)
    {
        var words = new int[Rows(descriptors)];
        Assign(descriptors, words, options);
        return words;
    }

    /// <summary>Writes the nearest word of each descriptor into <paramref name="words"/>.</summary>
    /// <param name="descriptors">Row-major descriptors, n × <see cref="Dimension"/>.</param>
    /// <param name="words">Receives n word indices.</param>
    /// <param name="options">Threads and search knobs; null for defaults.</param>
    /// <exception cref="ArgumentException">The descriptor length does not match, the buffer has the wrong size, or a value is not finite.</exception>
    public void Assign(ReadOnlySpan<float> descriptors, Span<int> words, SearchOptions? options = null)
    {
        int n = Rows(descriptors);
        if (words.Length != n)
            throw new ArgumentException($"The word buffer must hold one entry per descriptor ({n}); got {words.Length}.", nameof(words));
        if (n == 0) return;
        var ids = new long[n];
        var distances = new float[n];
        (AssignmentIndex ?? _exact.Value).Search(descriptors, 1, ids, distances, options);
        for (int i = 0; i < n; i++)
        {
            if (ids[i] < 0 || ids[i] >= Size)
                throw new InvalidOperationException($"The assignment index returned id {ids[i]}, which is not a word of this {Size}-word vocabulary.");
            words[i] = (int)ids[i];
        }
    }

    /// <summary>
    /// Kernel soft assignment (Philbin et al., CVPR 2008): each descriptor's <paramref name="neighbours"/> nearest words with
    /// weights exp(−d²/2σ²), normalised per descriptor to sum to 1. Philbin et al. use 3 neighbours.
    /// </summary>
    /// <param name="descriptors">Row-major descriptors, n × <see cref="Dimension"/>.</param>
    /// <param name="neighbours">Words per descriptor; positive.</param>
    /// <param name="sigma">Kernel width σ in descriptor units; positive (for OpenCV-scaled SIFT, Philbin et al.'s σ² = 6250 corresponds to σ ≈ 79).</param>
    /// <param name="options">Threads and search knobs; null for defaults.</param>
    /// <exception cref="ArgumentException">The descriptor length does not match, or a count or σ is out of range.</exception>
    public SoftAssignment AssignSoft(ReadOnlySpan<float> descriptors, int neighbours, double sigma, SearchOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(neighbours);
        if (!(sigma > 0) || double.IsInfinity(sigma))
            throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "The kernel width σ must be positive and finite.");
        (long[] ids, float[] distances) = Nearest(descriptors, neighbours, options);
        int n = ids.Length / neighbours;
        var words = new int[ids.Length];
        var weights = new float[ids.Length];
        double scale = -1 / (2 * sigma * sigma);
        for (int i = 0; i < n; i++)
        {
            // Distances are relative to the nearest word before exponentiation, so far descriptors do not underflow to 0 / 0.
            double nearest = distances[i * neighbours], sum = 0;
            for (int j = 0; j < neighbours; j++)
            {
                int at = i * neighbours + j;
                words[at] = (int)ids[at];
                double w = ids[at] < 0 ? 0 : Math.Exp((distances[at] - nearest) * scale);
                weights[at] = (float)w;
                sum += w;
            }
            for (int j = 0; j < neighbours; j++) weights[i * neighbours + j] = (float)(weights[i * neighbours + j] / sum);
        }
        return new SoftAssignment(Size, neighbours, words, weights);
    }

    /// <summary>The <paramref name="neighbours"/> nearest words of each descriptor (ids, −1 when missing) and their squared distances, row-major.</summary>
    internal (long[] Ids, float[] Distances) Nearest(ReadOnlySpan<float> descriptors, int neighbours, SearchOptions? options)
    {
        int n = Rows(descriptors);
        var ids = new long[n * neighbours];
        var distances = new float[n * neighbours];
        if (n > 0) (AssignmentIndex ?? _exact.Value).Search(descriptors, neighbours, ids, distances, options);
        foreach (long id in ids)
        {
            if (id >= Size)
                throw new InvalidOperationException($"The assignment index returned id {id}, which is not a word of this {Size}-word vocabulary.");
        }
        return (ids, distances);
    }

    /// <summary>Saves the vocabulary (and its assignment index, when it is one of this library's) atomically.</summary>
    /// <param name="path">Target file; replaced if it exists.</param>
    public void Save(string path) => AggregationFile.Save(path, KindName, Write);

    /// <summary>Writes the vocabulary in the library's container format.</summary>
    /// <param name="stream">A writable stream.</param>
    public void Save(Stream stream) => IndexFileFormat.Write(stream, KindName, Write);

    /// <summary>Loads a vocabulary saved by <see cref="Save(string)"/>.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="InvalidDataException">Not a vocabulary file, or truncated or corrupt.</exception>
    public static VisualVocabulary Load(string path) => AggregationFile.Load(path, KindName, Read);

    /// <summary>Loads a vocabulary from a stream positioned at a file written by <see cref="Save(Stream)"/>.</summary>
    /// <param name="stream">A readable stream.</param>
    /// <exception cref="InvalidDataException">Not a vocabulary file, or truncated or corrupt.</exception>
    public static VisualVocabulary Load(Stream stream) => AggregationFile.Read(stream, KindName, Read);

    internal void Write(IndexPayloadWriter writer)
    {
        writer.WriteInt32(Dimension);
        writer.WriteInt32(Size);
        writer.WriteSpan<float>(Centroids);
        writer.WriteInt32(AssignmentIndex is null ? 0 : 1);
        if (AssignmentIndex is not null) writer.WriteIndex(AssignmentIndex);
    }

    internal static VisualVocabulary Read(IndexPayloadReader reader)
    {
        int dimension = reader.ReadInt32("dimension", 1, 1 << 20);
        int size = reader.ReadInt32("vocabulary size", 1, int.MaxValue);
        float[] centroids = reader.ReadArray<float>((long)size * dimension, "centres");
        int hasIndex = reader.ReadInt32("assignment index flag", 0, 1);
        IVectorIndex? index = hasIndex == 1 ? reader.ReadIndex("assignment index") : null;
        try
        {
            return new VisualVocabulary(centroids, dimension, index);
        }
        catch (ArgumentException e)
        {
            throw reader.Corrupt(e.Message);
        }
    }

    private int Rows(ReadOnlySpan<float> descriptors)
    {
        if (descriptors.Length % Dimension != 0)
            throw new ArgumentException(
                $"The vocabulary has {Dimension}-dimensional words, which does not divide the {descriptors.Length} descriptor values: vocabulary/descriptor dimension mismatch.",
                nameof(descriptors));
        return descriptors.Length / Dimension;
    }
}
