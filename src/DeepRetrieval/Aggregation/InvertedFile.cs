using DeepRetrieval.Persistence;

namespace DeepRetrieval.Aggregation;

/// <summary>
/// A sparse inverted file over bag-of-visual-words histograms (Sivic &amp; Zisserman, "Video Google", ICCV 2003): one
/// posting list per word holding the images that contain it and their term counts, so a query touches only the images
/// that share a word with it. Histograms are damped for burstiness, TF-IDF weighted, normalised and scored by dot
/// product or histogram intersection as <see cref="BagOfWordsOptions"/> says; <see cref="Search(SparseVector, int)"/>
/// returns the top-N short list that <c>SpatialReranker</c> (image package) re-ranks by spatial verification.
/// </summary>
/// <remarks>
/// <para>Images are added with their raw term counts (<see cref="SparseVector.FromWords"/> of their word assignments);
/// IDF weights and image norms depend on the whole collection and are recomputed lazily before the first search after
/// a change (cost linear in the stored entries).</para>
/// <para>Searches may run concurrently with each other; <see cref="Add(long, SparseVector)"/> and
/// <see cref="Remove"/> must not overlap anything else. Saved in the library's index container with kind
/// <see cref="KindName"/>, atomically when saved to a path.</para>
/// </remarks>
public sealed class InvertedFile
{
    /// <summary>The kind name of saved inverted files in the index container.</summary>
    public const string KindName = "InvertedFile";

    private readonly List<Posting>[] _postings;
    private readonly int[] _documentFrequency;
    private readonly Dictionary<long, int> _slotOfId = [];
    private readonly List<long> _ids = [];
    private readonly List<int[]> _words = [];
    private readonly List<float[]> _counts = [];
    private readonly List<bool> _alive = [];
    private float[] _idf = [];
    private float[] _norms = [];
    private int _removed;
    private volatile bool _dirty = true;
    private readonly object _statisticsLock = new();

    /// <summary>Creates an empty inverted file for a vocabulary.</summary>
    /// <param name="vocabularySize">Words in the vocabulary; positive.</param>
    /// <param name="options">Burstiness, weighting, normalisation and similarity; null for the defaults.</param>
    /// <exception cref="ArgumentException">The size is not positive or an option is undefined.</exception>
    public InvertedFile(int vocabularySize, BagOfWordsOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabularySize);
        options ??= new BagOfWordsOptions();
        if (!Enum.IsDefined(options.Burstiness) || !Enum.IsDefined(options.Weighting) || !Enum.IsDefined(options.Normalization) || !Enum.IsDefined(options.Similarity))
            throw new ArgumentOutOfRangeException(nameof(options), "An option of the bag-of-words settings is not a defined value.");
        VocabularySize = vocabularySize;
        Options = options;
        _postings = new List<Posting>[vocabularySize];
        _documentFrequency = new int[vocabularySize];
    }

    /// <summary>Words in the vocabulary.</summary>
    public int VocabularySize { get; }

    /// <summary>The histogram settings.</summary>
    public BagOfWordsOptions Options { get; }

    /// <summary>Images currently stored.</summary>
    public int Count => _slotOfId.Count;

    /// <summary>True when an image with this id is stored.</summary>
    /// <param name="id">The id.</param>
    public bool Contains(long id) => _slotOfId.ContainsKey(id);

    /// <summary>Adds an image by its raw term counts.</summary>
    /// <param name="id">A non-negative id not yet in the file.</param>
    /// <param name="termCounts">The image's histogram over this vocabulary (counts or soft-assignment weights, non-negative).</param>
    /// <exception cref="ArgumentException">Negative or duplicate id, a histogram of another vocabulary size, or a negative count.</exception>
    public void Add(long id, SparseVector termCounts)
    {
        ArgumentNullException.ThrowIfNull(termCounts);
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        if (_slotOfId.ContainsKey(id)) throw new ArgumentException($"Image {id} is already in the inverted file.", nameof(id));
        CheckHistogram(termCounts, nameof(termCounts));
        var counts = new float[termCounts.Count];
        for (int i = 0; i < counts.Length; i++) counts[i] = Damp(termCounts.Values[i]);
        AddDamped(id, termCounts.Indices.ToArray(), counts);
    }

    /// <summary>Adds an image by the visual word of each of its local features.</summary>
    /// <param name="id">A non-negative id not yet in the file.</param>
    /// <param name="words">One word per feature; may be empty (the image then matches nothing).</param>
    /// <exception cref="ArgumentException">Negative or duplicate id, or a word outside the vocabulary.</exception>
    public void Add(long id, ReadOnlySpan<int> words) => Add(id, SparseVector.FromWords(words, VocabularySize));

    /// <summary>Removes images; either all given ids are removed or, when one is unknown, none is.</summary>
    /// <param name="ids">Ids to remove; duplicates are ignored.</param>
    /// <returns>The number of images removed.</returns>
    /// <exception cref="KeyNotFoundException">An id is not stored (nothing is removed).</exception>
    public int Remove(ReadOnlySpan<long> ids)
    {
        foreach (long id in ids)
        {
            if (!_slotOfId.ContainsKey(id)) throw new KeyNotFoundException($"Image {id} is not in the inverted file.");
        }
        int removed = 0;
        foreach (long id in ids)
        {
            if (!_slotOfId.Remove(id, out int slot)) continue;
            _alive[slot] = false;
            foreach (int w in _words[slot]) _documentFrequency[w]--;
            _removed++;
            removed++;
        }
        if (removed > 0) _dirty = true;
        if (_removed > 1024 && _removed > _ids.Count / 2) Compact();
        return removed;
    }

    /// <summary>The best-scoring images for a query histogram (the short list).</summary>
    /// <param name="queryCounts">The query's raw term counts over this vocabulary.</param>
    /// <param name="topN">Images to return at most; positive.</param>
    /// <returns>Images sharing at least one word with the query, best first (ties by ascending id); fewer than N when fewer match.</returns>
    /// <exception cref="ArgumentException">A histogram of another vocabulary size, a negative count, or N not positive.</exception>
    public ScoredImage[] Search(SparseVector queryCounts, int topN)
    {
        ArgumentNullException.ThrowIfNull(queryCounts);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(topN);
        CheckHistogram(queryCounts, nameof(queryCounts));
        EnsureStatistics();
        float[] idf = _idf, norms = _norms;
        SparseVector query = Weight(queryCounts, idf);
        using var scores = new ScoreAccumulator(_ids.Count);
        bool intersection = Options.Similarity == HistogramSimilarity.Intersection;
        for (int i = 0; i < query.Count; i++)
        {
            int w = query.Indices[i];
            float q = query.Values[i];
            if (q == 0 || _postings[w] is not { } postings) continue;
            float weight = idf[w];
            foreach (Posting p in postings)
            {
                float d = p.Count * weight;
                scores.Add(p.Slot, intersection ? MathF.Min(q, d / norms[p.Slot]) : q * d);
            }
        }
        return scores.Top(topN, slot => _alive[slot], (slot, sum) => intersection ? sum : sum / norms[slot], slot => _ids[slot]);
    }

    /// <summary>The best-scoring images for a query given by the visual word of each feature.</summary>
    /// <param name="queryWords">One word per query feature.</param>
    /// <param name="topN">Images to return at most; positive.</param>
    public ScoredImage[] Search(ReadOnlySpan<int> queryWords, int topN) => Search(SparseVector.FromWords(queryWords, VocabularySize), topN);

    /// <summary>
    /// The normalised, weighted vector the file compares for a histogram (burstiness, IDF and normalisation applied), as
    /// used for queries; <see cref="HistogramSimilarity.DotProduct"/> of two such vectors is their score.
    /// </summary>
    /// <param name="termCounts">Raw term counts over this vocabulary.</param>
    public SparseVector Weighted(SparseVector termCounts)
    {
        ArgumentNullException.ThrowIfNull(termCounts);
        CheckHistogram(termCounts, nameof(termCounts));
        EnsureStatistics();
        return Weight(termCounts, _idf);
    }

    /// <summary>The current inverse document frequency of a word: ln(N / nᵢ), 0 for words no image contains (1 for all words without TF-IDF).</summary>
    /// <param name="word">Zero-based word index.</param>
    public float InverseDocumentFrequency(int word)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(word);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(word, VocabularySize);
        EnsureStatistics();
        return _idf[word];
    }

    /// <summary>Bytes held by postings and stored histograms.</summary>
    public long MemoryUsageBytes
    {
        get
        {
            long entries = _words.Sum(w => (long)w.Length);
            return entries * (2 * sizeof(int) + 2 * sizeof(float)) + (long)_ids.Count * (sizeof(long) + 2 * sizeof(float)) + (long)VocabularySize * (sizeof(int) + sizeof(float));
        }
    }

    /// <summary>Saves the inverted file atomically (temporary file, flush, rename).</summary>
    /// <param name="path">Target file; replaced if it exists.</param>
    public void Save(string path) => AggregationFile.Save(path, KindName, Write);

    /// <summary>Writes the inverted file in the library's container format.</summary>
    /// <param name="stream">A writable stream.</param>
    public void Save(Stream stream) => IndexFileFormat.Write(stream, KindName, Write);

    /// <summary>Loads an inverted file saved by <see cref="Save(string)"/>.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="InvalidDataException">Not an inverted file, truncated or corrupt, or declaring more than 2^24 words.</exception>
    public static InvertedFile Load(string path) => AggregationFile.Load(path, KindName, Read);

    /// <summary>Loads an inverted file from a stream positioned at a file written by <see cref="Save(Stream)"/>.</summary>
    /// <param name="stream">A readable stream.</param>
    /// <exception cref="InvalidDataException">Not an inverted file, truncated or corrupt, or declaring more than 2^24 words.</exception>
    public static InvertedFile Load(Stream stream) => AggregationFile.Read(stream, KindName, Read);

    private void Write(IndexPayloadWriter writer)
    {
        writer.WriteInt32(VocabularySize);
        writer.WriteInt32((int)Options.Burstiness);
        writer.WriteInt32((int)Options.Weighting);
        writer.WriteInt32((int)Options.Normalization);
        writer.WriteInt32((int)Options.Similarity);
        writer.WriteInt32(Count);
        for (int slot = 0; slot < _ids.Count; slot++)
        {
            if (!_alive[slot]) continue;
            writer.WriteInt64(_ids[slot]);
            writer.WriteInt32(_words[slot].Length);
            writer.WriteSpan<int>(_words[slot]);
            writer.WriteSpan<float>(_counts[slot]);
        }
    }

    private const int MaxLoadedVocabularySize = 1 << 24;

    private static InvertedFile Read(IndexPayloadReader reader)
    {
        // The constructor allocates per-word tables, so the size a file declares is bounded before it is used: 2^24 words is the
        // largest vocabulary in the literature (16M, Mikulik et al.); a 100-byte file could otherwise ask for gigabytes.
        int vocabularySize = reader.ReadInt32("vocabulary size", 1, MaxLoadedVocabularySize);
        var options = new BagOfWordsOptions
        {
            Burstiness = (BurstinessHandling)reader.ReadInt32("burstiness", 0, (int)BurstinessHandling.Binary),
            Weighting = (TermWeighting)reader.ReadInt32("weighting", 0, (int)TermWeighting.TfIdf),
            Normalization = (VectorNormalization)reader.ReadInt32("normalisation", 0, (int)VectorNormalization.L2),
            Similarity = (HistogramSimilarity)reader.ReadInt32("similarity", 0, (int)HistogramSimilarity.Intersection),
        };
        // Bound the image count by the bytes left (each image takes at least 12 bytes) before looping on it.
        int count = reader.ReadInt32("image count", 0, (int)Math.Min(int.MaxValue, reader.Remaining / 12));
        var file = new InvertedFile(vocabularySize, options);
        for (int i = 0; i < count; i++)
        {
            long id = reader.ReadInt64("image id", 0, long.MaxValue);
            int entries = reader.ReadInt32("histogram entries", 0, vocabularySize);
            int[] words = reader.ReadArray<int>(entries, "word indices");
            float[] counts = reader.ReadArray<float>(entries, "term counts");
            if (file._slotOfId.ContainsKey(id)) throw reader.Corrupt($"image {id} appears twice");
            for (int j = 0; j < entries; j++)
            {
                if ((uint)words[j] >= (uint)vocabularySize || (j > 0 && words[j] <= words[j - 1]))
                    throw reader.Corrupt($"image {id} has word indices out of range or out of order");
                if (!(counts[j] >= 0) || float.IsInfinity(counts[j]))
                    throw reader.Corrupt($"image {id} has a negative or non-finite term count");
            }
            file.AddDamped(id, words, counts);
        }
        return file;
    }

    private void AddDamped(long id, int[] words, float[] counts)
    {
        int slot = _ids.Count;
        _ids.Add(id);
        _words.Add(words);
        _counts.Add(counts);
        _alive.Add(true);
        _slotOfId[id] = slot;
        for (int i = 0; i < words.Length; i++)
        {
            int w = words[i];
            (_postings[w] ??= []).Add(new Posting(slot, counts[i]));
            _documentFrequency[w]++;
        }
        _dirty = true;
    }

    private float Damp(float count) => Options.Burstiness switch
    {
        BurstinessHandling.SquareRoot => MathF.Sqrt(count),
        BurstinessHandling.Binary => count > 0 ? 1f : 0f,
        _ => count,
    };

    private SparseVector Weight(SparseVector counts, float[] idf)
    {
        var values = new float[counts.Count];
        for (int i = 0; i < values.Length; i++) values[i] = Damp(counts.Values[i]) * idf[counts.Indices[i]];
        float norm = Norm(values);
        if (norm > 0)
            for (int i = 0; i < values.Length; i++) values[i] /= norm;
        return new SparseVector(VocabularySize, counts.Indices, values);
    }

    private float Norm(ReadOnlySpan<float> values) => Options.Normalization switch
    {
        VectorNormalization.L1 => System.Numerics.Tensors.TensorPrimitives.SumOfMagnitudes(values),
        VectorNormalization.L2 => System.Numerics.Tensors.TensorPrimitives.Norm(values),
        _ => 1f,
    };

    // IDF from the live images and each image's norm under it; done once per change, before a search reads them.
    private void EnsureStatistics()
    {
        if (!_dirty) return;
        lock (_statisticsLock)
        {
            if (!_dirty) return;
            int n = Count;
            var idf = new float[VocabularySize];
            for (int w = 0; w < VocabularySize; w++)
            {
                int df = _documentFrequency[w];
                idf[w] = Options.Weighting == TermWeighting.TfIdf ? (df > 0 ? (float)Math.Log((double)n / df) : 0f) : 1f;
            }
            var norms = new float[_ids.Count];
            var scratch = new List<float>();
            for (int slot = 0; slot < _ids.Count; slot++)
            {
                scratch.Clear();
                int[] words = _words[slot];
                float[] counts = _counts[slot];
                for (int i = 0; i < words.Length; i++) scratch.Add(counts[i] * idf[words[i]]);
                float norm = Norm(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(scratch));
                norms[slot] = norm > 0 ? norm : 1f;
            }
            _idf = idf;
            _norms = norms;
            _dirty = false;
        }
    }

    // Drops removed images from the slots and posting lists once they make up most of the file.
    private void Compact()
    {
        var live = Enumerable.Range(0, _ids.Count).Where(slot => _alive[slot]).Select(slot => (_ids[slot], _words[slot], _counts[slot])).ToList();
        _ids.Clear();
        _words.Clear();
        _counts.Clear();
        _alive.Clear();
        _slotOfId.Clear();
        Array.Clear(_postings);
        Array.Clear(_documentFrequency);
        _removed = 0;
        foreach (var (id, words, counts) in live) AddDamped(id, words, counts);
    }

    private void CheckHistogram(SparseVector histogram, string name)
    {
        if (histogram.Dimension != VocabularySize)
            throw new ArgumentException($"The histogram is over {histogram.Dimension} words; this inverted file's vocabulary has {VocabularySize}.", name);
        foreach (float v in histogram.Values)
        {
            if (v < 0) throw new ArgumentException($"Term counts must not be negative; got {v}.", name);
        }
    }

    private readonly record struct Posting(int Slot, float Count);
}
