namespace DeepRetrieval.Aggregation;

/// <summary>
/// A sparse vector over a vocabulary: strictly increasing word indices with their values (term counts or weights), the
/// form bag-of-words histograms take. Immutable; the constructor validates and copies nothing.
/// </summary>
public sealed class SparseVector
{
    /// <summary>Wraps sorted indices and their values.</summary>
    /// <param name="dimension">The vocabulary size; positive.</param>
    /// <param name="indices">Strictly increasing indices in [0, dimension).</param>
    /// <param name="values">One finite value per index.</param>
    /// <exception cref="ArgumentException">Lengths differ, an index is out of range or out of order, or a value is not finite.</exception>
    public SparseVector(int dimension, int[] indices, float[] values)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(values);
        if (indices.Length != values.Length)
            throw new ArgumentException($"Got {indices.Length} indices but {values.Length} values.", nameof(values));
        for (int i = 0; i < indices.Length; i++)
        {
            if ((uint)indices[i] >= (uint)dimension)
                throw new ArgumentException($"Index {indices[i]} is outside the vocabulary of {dimension} words.", nameof(indices));
            if (i > 0 && indices[i] <= indices[i - 1])
                throw new ArgumentException("Indices must be strictly increasing.", nameof(indices));
            if (!float.IsFinite(values[i]))
                throw new ArgumentException($"Value {values[i]} at index {indices[i]} is not finite.", nameof(values));
        }
        Dimension = dimension;
        Indices = indices;
        Values = values;
    }

    /// <summary>The vocabulary size.</summary>
    public int Dimension { get; }

    /// <summary>Strictly increasing word indices of the non-zero entries.</summary>
    public int[] Indices { get; }

    /// <summary>The values at <see cref="Indices"/>.</summary>
    public float[] Values { get; }

    /// <summary>Number of stored entries.</summary>
    public int Count => Indices.Length;

    /// <summary>The term-count histogram of a list of word assignments (each word counted once per occurrence).</summary>
    /// <param name="words">The visual word of each local feature.</param>
    /// <param name="vocabularySize">Words in the vocabulary; positive.</param>
    /// <exception cref="ArgumentException">A word is outside [0, vocabularySize).</exception>
    public static SparseVector FromWords(ReadOnlySpan<int> words, int vocabularySize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabularySize);
        int[] sorted = words.ToArray();
        Array.Sort(sorted);
        var indices = new List<int>();
        var values = new List<float>();
        for (int i = 0; i < sorted.Length;)
        {
            int w = sorted[i], j = i;
            while (j < sorted.Length && sorted[j] == w) j++;
            if ((uint)w >= (uint)vocabularySize)
                throw new ArgumentException($"Word {w} is outside the vocabulary of {vocabularySize} words.", nameof(words));
            indices.Add(w);
            values.Add(j - i);
            i = j;
        }
        return new SparseVector(vocabularySize, [.. indices], [.. values]);
    }

    /// <summary>The weighted histogram of soft assignments: each feature adds its weights to its words.</summary>
    /// <param name="assignment">Words and weights per feature.</param>
    public static SparseVector FromSoftAssignment(SoftAssignment assignment)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        var sums = new SortedDictionary<int, float>();
        for (int i = 0; i < assignment.Words.Length; i++)
        {
            if (assignment.Words[i] < 0) continue;
            sums[assignment.Words[i]] = sums.GetValueOrDefault(assignment.Words[i]) + assignment.Weights[i];
        }
        return new SparseVector(assignment.VocabularySize, [.. sums.Keys], [.. sums.Values]);
    }

    /// <summary>The dot product with another sparse vector of the same dimension.</summary>
    /// <param name="other">The other vector.</param>
    /// <exception cref="ArgumentException">The dimensions differ.</exception>
    public double Dot(SparseVector other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Dimension != Dimension)
            throw new ArgumentException($"Dimensions differ: {Dimension} and {other.Dimension}.", nameof(other));
        double sum = 0;
        for (int i = 0, j = 0; i < Count && j < other.Count;)
        {
            if (Indices[i] == other.Indices[j]) sum += (double)Values[i++] * other.Values[j++];
            else if (Indices[i] < other.Indices[j]) i++;
            else j++;
        }
        return sum;
    }

    /// <summary>The dense form: <see cref="Dimension"/> values, zero where no entry is stored.</summary>
    public float[] ToDense()
    {
        var dense = new float[Dimension];
        for (int i = 0; i < Count; i++) dense[Indices[i]] = Values[i];
        return dense;
    }
}
