using System.Numerics;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Aggregation;

/// <summary>
/// The aggregated selective match kernel (ASMK / ASMK*; Tolias, Avrithis &amp; Jégou, ICCV 2013 and IJCV 2016), the
/// standard way to index deep local features (HOW, FIRe) and a strong one for SIFT. An image's descriptors assigned to
/// the same visual word are aggregated into one unit residual V̂(X_c) = Σ(x − c) / ‖Σ(x − c)‖ (binarised to sign bits
/// for ASMK*), which removes burstiness within the word. Two images are compared by
/// <c>K(X, Y) = γ(X) γ(Y) Σ_c σ(u(X_c, Y_c))</c> over their common words, where u is the residuals' cosine (or
/// 1 − 2h/d between bit signatures), σ the selectivity function of <see cref="AsmkOptions"/>, and
/// γ(X) = (Σ_c σ(u(X_c, X_c)))^(−1/2) normalises self-similarity to 1. An inverted file over words makes a query touch
/// only the images that share a word with it.
/// </summary>
/// <remarks>
/// Searches may run concurrently with each other; <see cref="Add"/> and <see cref="Remove"/> must not overlap anything
/// else. Saved (with its vocabulary) in the library's index container with kind <see cref="KindName"/>.
/// </remarks>
public sealed class AsmkIndex
{
    /// <summary>The kind name of saved ASMK indexes in the index container.</summary>
    public const string KindName = "AsmkIndex";

    private readonly List<int>[] _postingSlots;
    private readonly List<int>[] _postingEntries; // entry index within the slot's aggregated words
    private readonly Dictionary<long, int> _slotOfId = [];
    private readonly List<long> _ids = [];
    private readonly List<Aggregated> _images = [];
    private readonly List<bool> _alive = [];
    private readonly int _codeWords;

    /// <summary>Creates an empty index over a vocabulary.</summary>
    /// <param name="vocabulary">The visual words (K × d).</param>
    /// <param name="options">Selectivity, binarisation and query assignment; null for ASMK*'s defaults.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public AsmkIndex(VisualVocabulary vocabulary, AsmkOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        options ??= new AsmkOptions();
        if (!(options.Alpha > 0) || double.IsInfinity(options.Alpha))
            throw new ArgumentOutOfRangeException(nameof(options), options.Alpha, "Alpha must be positive and finite.");
        if (!(options.Threshold >= -1 && options.Threshold < 1))
            throw new ArgumentOutOfRangeException(nameof(options), options.Threshold, "Threshold must be in [−1, 1).");
        if (options.QueryAssignments <= 0 || options.QueryAssignments > vocabulary.Size)
            throw new ArgumentOutOfRangeException(nameof(options), options.QueryAssignments, $"QueryAssignments must be between 1 and the vocabulary size {vocabulary.Size}.");
        Vocabulary = vocabulary;
        Options = options;
        _postingSlots = new List<int>[vocabulary.Size];
        _postingEntries = new List<int>[vocabulary.Size];
        _codeWords = (vocabulary.Dimension + 63) / 64;
    }

    /// <summary>The visual words.</summary>
    public VisualVocabulary Vocabulary { get; }

    /// <summary>The kernel settings.</summary>
    public AsmkOptions Options { get; }

    /// <summary>Images currently stored.</summary>
    public int Count => _slotOfId.Count;

    /// <summary>True when an image with this id is stored.</summary>
    /// <param name="id">The id.</param>
    public bool Contains(long id) => _slotOfId.ContainsKey(id);

    /// <summary>Adds an image by its local descriptors (hard-assigned to words).</summary>
    /// <param name="id">A non-negative id not yet in the index.</param>
    /// <param name="descriptors">Row-major n × d descriptors; may be empty (the image then matches nothing).</param>
    /// <exception cref="ArgumentException">Negative or duplicate id, a descriptor length other than the vocabulary's, or a non-finite value.</exception>
    public void Add(long id, ReadOnlySpan<float> descriptors)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        if (_slotOfId.ContainsKey(id)) throw new ArgumentException($"Image {id} is already in the ASMK index.", nameof(id));
        Aggregated image = Aggregate(descriptors, 1);
        Insert(id, image);
    }

    /// <summary>Removes images; either all given ids are removed or, when one is unknown, none is.</summary>
    /// <param name="ids">Ids to remove; duplicates are ignored.</param>
    /// <returns>The number of images removed.</returns>
    /// <exception cref="KeyNotFoundException">An id is not stored (nothing is removed).</exception>
    public int Remove(ReadOnlySpan<long> ids)
    {
        foreach (long id in ids)
        {
            if (!_slotOfId.ContainsKey(id)) throw new KeyNotFoundException($"Image {id} is not in the ASMK index.");
        }
        int removed = 0;
        foreach (long id in ids)
        {
            if (!_slotOfId.Remove(id, out int slot)) continue;
            _alive[slot] = false;
            removed++;
        }
        return removed;
    }

    /// <summary>The images most similar to a query under the match kernel (the short list).</summary>
    /// <param name="descriptors">Row-major n × d query descriptors.</param>
    /// <param name="topN">Images to return at most; positive.</param>
    /// <returns>Images with a positive kernel value, best first (ties by ascending id).</returns>
    /// <exception cref="ArgumentException">The descriptor length does not match the vocabulary, a value is not finite, or N is not positive.</exception>
    public ScoredImage[] Search(ReadOnlySpan<float> descriptors, int topN)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(topN);
        Aggregated query = Aggregate(descriptors, Options.QueryAssignments);
        using var scores = new ScoreAccumulator(_ids.Count);
        for (int e = 0; e < query.Words.Length; e++)
        {
            int w = query.Words[e];
            if (_postingSlots[w] is not { } slots) continue;
            List<int> entries = _postingEntries[w]!;
            for (int p = 0; p < slots.Count; p++)
            {
                int slot = slots[p];
                float contribution = Selectivity(Similarity(query, e, _images[slot], entries[p]));
                if (contribution != 0) scores.Add(slot, contribution);
            }
        }
        float queryNorm = query.Norm;
        return scores.Top(topN, slot => _alive[slot], (slot, sum) => sum * queryNorm * _images[slot].Norm, slot => _ids[slot]);
    }

    /// <summary>
    /// The normalised kernel K(X, Y) between two descriptor sets, both aggregated as database images (hard assignment):
    /// 1 for identical sets, 0 for sets without a common word.
    /// </summary>
    /// <param name="first">Row-major descriptors of the first image.</param>
    /// <param name="second">Row-major descriptors of the second image.</param>
    /// <exception cref="ArgumentException">A descriptor length does not match the vocabulary or a value is not finite.</exception>
    public double Similarity(ReadOnlySpan<float> first, ReadOnlySpan<float> second)
    {
        Aggregated a = Aggregate(first, 1), b = Aggregate(second, 1);
        double sum = 0;
        for (int i = 0, j = 0; i < a.Words.Length && j < b.Words.Length;)
        {
            if (a.Words[i] == b.Words[j]) sum += Selectivity(Similarity(a, i++, b, j++));
            else if (a.Words[i] < b.Words[j]) i++;
            else j++;
        }
        return sum * a.Norm * b.Norm;
    }

    /// <summary>Saves the index and its vocabulary atomically.</summary>
    /// <param name="path">Target file; replaced if it exists.</param>
    public void Save(string path) => AggregationFile.Save(path, KindName, Write);

    /// <summary>Writes the index and its vocabulary in the library's container format.</summary>
    /// <param name="stream">A writable stream.</param>
    public void Save(Stream stream) => IndexFileFormat.Write(stream, KindName, Write);

    /// <summary>Loads an index saved by <see cref="Save(string)"/>.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="InvalidDataException">Not an ASMK index file, or truncated or corrupt.</exception>
    public static AsmkIndex Load(string path) => AggregationFile.Load(path, KindName, Read);

    /// <summary>Loads an index from a stream positioned at a file written by <see cref="Save(Stream)"/>.</summary>
    /// <param name="stream">A readable stream.</param>
    /// <exception cref="InvalidDataException">Not an ASMK index file, or truncated or corrupt.</exception>
    public static AsmkIndex Load(Stream stream) => AggregationFile.Read(stream, KindName, Read);

    private void Write(IndexPayloadWriter writer)
    {
        Vocabulary.Write(writer);
        writer.WriteDouble(Options.Alpha);
        writer.WriteDouble(Options.Threshold);
        writer.WriteInt32(Options.Binarize ? 1 : 0);
        writer.WriteInt32(Options.QueryAssignments);
        writer.WriteInt32(Count);
        for (int slot = 0; slot < _ids.Count; slot++)
        {
            if (!_alive[slot]) continue;
            Aggregated image = _images[slot];
            writer.WriteInt64(_ids[slot]);
            writer.WriteInt32(image.Words.Length);
            writer.WriteSpan<int>(image.Words);
            if (Options.Binarize) writer.WriteSpan<ulong>(image.Codes);
            else writer.WriteSpan<float>(image.Residuals);
        }
    }

    private static AsmkIndex Read(IndexPayloadReader reader)
    {
        VisualVocabulary vocabulary = VisualVocabulary.Read(reader);
        double alpha = reader.ReadDouble(), threshold = reader.ReadDouble();
        bool binarize = reader.ReadInt32("binarisation flag", 0, 1) == 1;
        int assignments = reader.ReadInt32("query assignments", 1, vocabulary.Size);
        AsmkIndex index;
        try
        {
            index = new AsmkIndex(vocabulary, new AsmkOptions { Alpha = alpha, Threshold = threshold, Binarize = binarize, QueryAssignments = assignments });
        }
        catch (ArgumentException e)
        {
            throw reader.Corrupt(e.Message);
        }
        int count = reader.ReadInt32("image count", 0, (int)Math.Min(int.MaxValue, reader.Remaining / 12));
        int d = vocabulary.Dimension;
        for (int i = 0; i < count; i++)
        {
            long id = reader.ReadInt64("image id", 0, long.MaxValue);
            int words = reader.ReadInt32("word count", 0, vocabulary.Size);
            int[] indices = reader.ReadArray<int>(words, "words");
            for (int j = 0; j < words; j++)
            {
                if ((uint)indices[j] >= (uint)vocabulary.Size || (j > 0 && indices[j] <= indices[j - 1]))
                    throw reader.Corrupt($"image {id} has words out of range or out of order");
            }
            if (index._slotOfId.ContainsKey(id)) throw reader.Corrupt($"image {id} appears twice");
            Aggregated image = binarize
                ? new Aggregated(indices, [], reader.ReadArray<ulong>((long)words * index._codeWords, "residual signatures"))
                : new Aggregated(indices, reader.ReadArray<float>((long)words * d, "residuals"), []);
            if (!binarize && !FiniteValues.All(image.Residuals)) throw reader.Corrupt($"image {id} has non-finite residuals");
            index.Insert(id, index.WithNorm(image));
        }
        return index;
    }

    private void Insert(long id, Aggregated image)
    {
        int slot = _ids.Count;
        _ids.Add(id);
        _images.Add(image);
        _alive.Add(true);
        _slotOfId[id] = slot;
        for (int e = 0; e < image.Words.Length; e++)
        {
            int w = image.Words[e];
            (_postingSlots[w] ??= []).Add(slot);
            (_postingEntries[w] ??= []).Add(e);
        }
    }

    // Aggregates residuals per word (each descriptor to its `assignments` nearest words), normalises them to unit
    // length and, for ASMK*, keeps their sign bits.
    private Aggregated Aggregate(ReadOnlySpan<float> descriptors, int assignments)
    {
        int d = Vocabulary.Dimension;
        (long[] ids, _) = Vocabulary.Nearest(descriptors, assignments, null);
        var sums = new SortedDictionary<int, float[]>();
        int n = ids.Length / assignments;
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> x = descriptors.Slice(i * d, d);
            for (int a = 0; a < assignments; a++)
            {
                long word = ids[i * assignments + a];
                if (word < 0) continue;
                if (!sums.TryGetValue((int)word, out float[]? sum)) sums[(int)word] = sum = new float[d];
                System.Numerics.Tensors.TensorPrimitives.Add(sum, x, sum);
                System.Numerics.Tensors.TensorPrimitives.Subtract(sum, Vocabulary.Centroid((int)word), sum);
            }
        }
        int[] words = [.. sums.Keys];
        var residuals = new float[words.Length * d];
        int e = 0;
        foreach (float[] sum in sums.Values)
        {
            float norm = System.Numerics.Tensors.TensorPrimitives.Norm(sum);
            if (norm > 0) System.Numerics.Tensors.TensorPrimitives.Multiply(sum, 1f / norm, residuals.AsSpan(e * d, d));
            e++;
        }
        if (!Options.Binarize) return WithNorm(new Aggregated(words, residuals, []));
        var codes = new ulong[words.Length * _codeWords];
        for (int i = 0; i < words.Length; i++)
            for (int j = 0; j < d; j++)
                if (residuals[i * d + j] > 0) codes[i * _codeWords + j / 64] |= 1UL << (j % 64);
        return WithNorm(new Aggregated(words, [], codes));
    }

    // γ(X) = (Σ_c σ(u(X_c, X_c)))^(−1/2); 0 for an image with no word (it then scores 0 against everything).
    private Aggregated WithNorm(Aggregated image)
    {
        double self = 0;
        for (int e = 0; e < image.Words.Length; e++) self += Selectivity(Similarity(image, e, image, e));
        return image with { Norm = self > 0 ? (float)(1 / Math.Sqrt(self)) : 0f };
    }

    private float Similarity(Aggregated a, int i, Aggregated b, int j)
    {
        int d = Vocabulary.Dimension;
        if (!Options.Binarize)
            return System.Numerics.Tensors.TensorPrimitives.Dot(a.Residuals.AsSpan(i * d, d), b.Residuals.AsSpan(j * d, d));
        int hamming = 0;
        for (int w = 0; w < _codeWords; w++)
            hamming += BitOperations.PopCount(a.Codes[i * _codeWords + w] ^ b.Codes[j * _codeWords + w]);
        return 1f - 2f * hamming / d;
    }

    private float Selectivity(float u) =>
        u > Options.Threshold ? MathF.CopySign((float)Math.Pow(Math.Abs(u), Options.Alpha), u) : 0f;

    // One image's aggregated words: sorted word ids with their unit residuals (ASMK) or sign signatures (ASMK*).
    private readonly record struct Aggregated(int[] Words, float[] Residuals, ulong[] Codes)
    {
        public float Norm { get; init; }
    }
}
