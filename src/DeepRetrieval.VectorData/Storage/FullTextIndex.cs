using System.Globalization;

namespace DeepRetrieval.VectorData.Storage;

/// <summary>
/// An inverted index over one string column, scored with Okapi BM25 (k1 = 1.2, b = 0.75, Lucene's idf
/// <c>ln(1 + (N − n + 0.5) / (n + 0.5))</c>). Text is split into terms at every character that is not a letter or digit
/// and lower-cased with the invariant culture; there is no stemming and no stop-word list.
/// </summary>
/// <remarks>Not thread-safe by itself; <see cref="RecordTable"/> serialises writes against reads.</remarks>
public sealed class FullTextIndex
{
    /// <summary>BM25's term-frequency saturation.</summary>
    public const double K1 = 1.2;

    /// <summary>BM25's length normalisation.</summary>
    public const double B = 0.75;

    private readonly Dictionary<string, Dictionary<long, int>> _postings = new(StringComparer.Ordinal);
    private readonly Dictionary<long, int> _lengths = new();
    private long _totalLength;

    /// <summary>The number of documents (records with a non-null text).</summary>
    public int DocumentCount => _lengths.Count;

    /// <summary>Splits text into lower-case terms.</summary>
    /// <param name="text">Any text.</param>
    public static List<string> Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var terms = new List<string>();
        int start = -1;
        for (int i = 0; i <= text.Length; i++)
        {
            bool word = i < text.Length && char.IsLetterOrDigit(text[i]);
            if (word && start < 0) start = i;
            else if (!word && start >= 0)
            {
                terms.Add(text[start..i].ToLower(CultureInfo.InvariantCulture));
                start = -1;
            }
        }
        return terms;
    }

    /// <summary>Indexes a document.</summary>
    /// <param name="id">The record id (not already indexed).</param>
    /// <param name="text">Its text.</param>
    public void Add(long id, string text)
    {
        List<string> terms = Tokenize(text);
        if (!_lengths.TryAdd(id, terms.Count))
            throw new InvalidOperationException($"Record id {id} is already in the full-text index.");
        _totalLength += terms.Count;
        foreach (string term in terms)
        {
            if (!_postings.TryGetValue(term, out var posting)) _postings[term] = posting = new Dictionary<long, int>();
            posting[id] = posting.GetValueOrDefault(id) + 1;
        }
    }

    /// <summary>Removes a document indexed with <paramref name="text"/>.</summary>
    /// <param name="id">The record id.</param>
    /// <param name="text">The text it was indexed with.</param>
    public void Remove(long id, string text)
    {
        if (!_lengths.Remove(id, out int length)) return;
        _totalLength -= length;
        foreach (string term in Tokenize(text))
        {
            if (_postings.TryGetValue(term, out var posting) && posting.Remove(id) && posting.Count == 0)
                _postings.Remove(term);
        }
    }

    /// <summary>
    /// Scores every document that contains at least one of <paramref name="terms"/> and passes <paramref name="filter"/>,
    /// and returns the best <paramref name="top"/>, highest score first (equal scores by ascending id).
    /// </summary>
    /// <param name="terms">Query terms (already tokenized; duplicates count once).</param>
    /// <param name="top">How many to return.</param>
    /// <param name="filter">Ids that may be returned, or null for all.</param>
    public List<(long Id, double Score)> Search(IEnumerable<string> terms, int top, Func<long, bool>? filter)
    {
        ArgumentNullException.ThrowIfNull(terms);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(top);
        var scores = new Dictionary<long, double>();
        int n = _lengths.Count;
        if (n == 0) return [];
        double averageLength = Math.Max((double)_totalLength / n, 1e-9);
        foreach (string term in terms.Distinct(StringComparer.Ordinal))
        {
            if (!_postings.TryGetValue(term, out var posting)) continue;
            double idf = Math.Log(1 + (n - posting.Count + 0.5) / (posting.Count + 0.5));
            foreach (var (id, frequency) in posting)
            {
                if (filter is not null && !filter(id)) continue;
                double norm = K1 * (1 - B + B * _lengths[id] / averageLength);
                scores[id] = scores.GetValueOrDefault(id) + idf * frequency * (K1 + 1) / (frequency + norm);
            }
        }
        return scores.Select(p => (p.Key, p.Value))
            .OrderByDescending(p => p.Value).ThenBy(p => p.Key)
            .Take(top).ToList();
    }
}
