using System.Buffers;

namespace DeepRetrieval.Aggregation;

/// <summary>
/// Per-query score accumulation over the image slots of an inverted index: scores are added per posting, the touched
/// slots remembered, and the best N taken with a bounded heap. The score array is rented from the shared pool, so a
/// query allocates only its result.
/// </summary>
internal sealed class ScoreAccumulator : IDisposable
{
    private readonly float[] _scores;
    private readonly bool[] _touched;
    private readonly List<int> _slots = [];

    public ScoreAccumulator(int slots)
    {
        _scores = ArrayPool<float>.Shared.Rent(Math.Max(1, slots));
        _touched = ArrayPool<bool>.Shared.Rent(Math.Max(1, slots));
        Array.Clear(_scores, 0, Math.Max(1, slots));
        Array.Clear(_touched, 0, Math.Max(1, slots));
    }

    public void Add(int slot, float value)
    {
        if (!_touched[slot])
        {
            _touched[slot] = true;
            _slots.Add(slot);
        }
        _scores[slot] += value;
    }

    /// <summary>
    /// The <paramref name="count"/> best touched slots that pass <paramref name="alive"/>, after <paramref name="finish"/>
    /// maps each accumulated sum to its final score; ordered by decreasing score, ties by ascending id.
    /// </summary>
    public ScoredImage[] Top(int count, Func<int, bool> alive, Func<int, float, float> finish, Func<int, long> idOf)
    {
        var heap = new PriorityQueue<ScoredImage, (float Score, long NegativeId)>();
        foreach (int slot in _slots)
        {
            if (!alive(slot)) continue;
            var item = new ScoredImage(idOf(slot), finish(slot, _scores[slot]));
            var key = (item.Score, -item.Id);
            if (heap.Count < count) heap.Enqueue(item, key);
            else if (heap.TryPeek(out _, out var worst) && key.CompareTo(worst) > 0) heap.EnqueueDequeue(item, key);
        }
        var result = new ScoredImage[heap.Count];
        for (int i = result.Length - 1; i >= 0; i--) result[i] = heap.Dequeue();
        return result;
    }

    public void Dispose()
    {
        ArrayPool<float>.Shared.Return(_scores);
        ArrayPool<bool>.Shared.Return(_touched);
    }
}
