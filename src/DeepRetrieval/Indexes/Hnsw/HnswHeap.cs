using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DeepRetrieval.Indexes.Hnsw;

/// <summary>
/// A binary max-heap of (key, slot) pairs over growable arrays, reused across queries so the graph search
/// allocates nothing once warm. Candidate queues push negated keys to get a min-heap.
/// </summary>
internal sealed class HnswHeap
{
    private float[] _keys = new float[64];
    private int[] _slots = new int[64];

    public int Count { get; private set; }

    public float TopKey
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _keys[0];
    }

    public int TopSlot
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _slots[0];
    }

    public void Clear() => Count = 0;

    public void Push(float key, int slot)
    {
        if (Count == _keys.Length)
        {
            Array.Resize(ref _keys, Count * 2);
            Array.Resize(ref _slots, Count * 2);
        }
        int position = Count++;
        // Positions stay below Count ≤ the arrays' length, so the checks the JIT cannot prove are skipped.
        ref float keys = ref MemoryMarshal.GetArrayDataReference(_keys);
        ref int slots = ref MemoryMarshal.GetArrayDataReference(_slots);
        while (position > 0)
        {
            int parent = (position - 1) >> 1;
            float parentKey = Unsafe.Add(ref keys, parent);
            if (parentKey >= key) break;
            Unsafe.Add(ref keys, position) = parentKey;
            Unsafe.Add(ref slots, position) = Unsafe.Add(ref slots, parent);
            position = parent;
        }
        Unsafe.Add(ref keys, position) = key;
        Unsafe.Add(ref slots, position) = slot;
    }

    public void Pop()
    {
        int count = --Count;
        if (count == 0) return;
        ref float keys = ref MemoryMarshal.GetArrayDataReference(_keys);
        ref int slots = ref MemoryMarshal.GetArrayDataReference(_slots);
        float key = Unsafe.Add(ref keys, count);
        int slot = Unsafe.Add(ref slots, count);
        int position = 0;
        while (true)
        {
            int child = 2 * position + 1;
            if (child >= count) break;
            float childKey = Unsafe.Add(ref keys, child);
            if (child + 1 < count && Unsafe.Add(ref keys, child + 1) > childKey)
            {
                child++;
                childKey = Unsafe.Add(ref keys, child);
            }
            if (childKey <= key) break;
            Unsafe.Add(ref keys, position) = childKey;
            Unsafe.Add(ref slots, position) = Unsafe.Add(ref slots, child);
            position = child;
        }
        Unsafe.Add(ref keys, position) = key;
        Unsafe.Add(ref slots, position) = slot;
    }

    /// <summary>The stored pairs in heap order (not sorted).</summary>
    public ReadOnlySpan<float> Keys => _keys.AsSpan(0, Count);

    /// <summary>The stored slots in heap order, matching <see cref="Keys"/>.</summary>
    public ReadOnlySpan<int> Slots => _slots.AsSpan(0, Count);
}
