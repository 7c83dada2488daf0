using System.Runtime.CompilerServices;

namespace DeepRetrieval.Indexes;

/// <summary>
/// Keeps the k smallest (key, id) pairs seen so far in caller-owned buffers: a binary max-heap whose root is the
/// current worst kept pair, so a candidate is rejected with one comparison against <see cref="Threshold"/>.
/// Pairs are ordered by key, then by id, so results are deterministic whatever order candidates arrive in.
/// </summary>
/// <remarks>Allocation-free. Similarity searches push the negated similarity as the key.</remarks>
public ref struct TopKHeap
{
    private readonly Span<float> _keys;
    private readonly Span<long> _ids;
    private int _count;

    /// <summary>Creates an empty heap over buffers of capacity k (both spans must have the same length k &gt; 0).</summary>
    /// <param name="keys">Key storage; receives the sorted keys after <see cref="SortAndPad"/>.</param>
    /// <param name="ids">Id storage; receives the sorted ids after <see cref="SortAndPad"/>.</param>
    public TopKHeap(Span<float> keys, Span<long> ids)
    {
        if (keys.Length != ids.Length || keys.Length == 0)
            throw new ArgumentException($"keys and ids must have the same, positive length; got {keys.Length} and {ids.Length}.");
        _keys = keys;
        _ids = ids;
        _count = 0;
    }

    /// <summary>
    /// Resumes a heap whose first <paramref name="count"/> slots were filled by an earlier <see cref="TopKHeap"/>
    /// over the same buffers (for example when candidates arrive in tiles).
    /// </summary>
    /// <param name="keys">Key storage.</param>
    /// <param name="ids">Id storage.</param>
    /// <param name="count">Pairs already kept, from <see cref="Count"/>.</param>
    public TopKHeap(Span<float> keys, Span<long> ids, int count) : this(keys, ids)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, keys.Length);
        _count = count;
    }

    /// <summary>The number of pairs kept so far (at most k).</summary>
    public readonly int Count => _count;

    /// <summary>
    /// The key a candidate must not exceed to enter: the worst kept key once k pairs are kept, +∞ before.
    /// A candidate equal to the threshold may still enter when its id is smaller.
    /// </summary>
    public readonly float Threshold
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _count < _keys.Length ? float.PositiveInfinity : _keys[0];
    }

    /// <summary>Offers a pair; keeps it when it is among the k smallest so far.</summary>
    /// <param name="key">The key (smaller is better).</param>
    /// <param name="id">The id.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Push(float key, long id)
    {
        if (_count < _keys.Length)
        {
            SiftUp(_count++, key, id);
        }
        else if (key < _keys[0] || (key == _keys[0] && id < _ids[0]))
        {
            SiftDown(key, id);
        }
    }

    /// <summary>Sorts the kept pairs ascending (ties by id) in place and marks unused slots with id −1 and key NaN.</summary>
    /// <returns>The number of real pairs.</returns>
    public int SortAndPad()
    {
        int n = _count;
        // Heap sort: repeatedly move the root (largest) to the end of the shrinking heap.
        for (int end = n - 1; end > 0; end--)
        {
            float key = _keys[end];
            long id = _ids[end];
            _keys[end] = _keys[0];
            _ids[end] = _ids[0];
            _count = end;
            SiftDown(key, id);
        }
        _count = n;
        _keys[n..].Fill(float.NaN);
        _ids[n..].Fill(SearchResult.MissingId);
        return n;
    }

    /// <summary>Empties the heap so the buffers can be reused for another query.</summary>
    public void Clear() => _count = 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Greater(float k1, long i1, float k2, long i2) => k1 > k2 || (k1 == k2 && i1 > i2);

    private void SiftUp(int position, float key, long id)
    {
        while (position > 0)
        {
            int parent = (position - 1) >> 1;
            if (!Greater(key, id, _keys[parent], _ids[parent])) break;
            _keys[position] = _keys[parent];
            _ids[position] = _ids[parent];
            position = parent;
        }
        _keys[position] = key;
        _ids[position] = id;
    }

    // Replaces the root with (key, id) and restores the heap over the first _count slots.
    private void SiftDown(float key, long id)
    {
        int position = 0;
        int count = _count;
        while (true)
        {
            int child = 2 * position + 1;
            if (child >= count) break;
            if (child + 1 < count && Greater(_keys[child + 1], _ids[child + 1], _keys[child], _ids[child])) child++;
            if (!Greater(_keys[child], _ids[child], key, id)) break;
            _keys[position] = _keys[child];
            _ids[position] = _ids[child];
            position = child;
        }
        _keys[position] = key;
        _ids[position] = id;
    }
}
