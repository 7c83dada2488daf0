using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DeepRetrieval.Indexes.Hnsw;

/// <summary>
/// Per-thread scratch for graph searches (hnswlib's VisitedListPool): generation-stamped visited marks, so a
/// query starts by bumping a counter instead of clearing an array, plus the heaps and buffers of a search.
/// </summary>
/// <remarks>
/// A thread takes its context with <see cref="Rent"/> and gives it back with <see cref="Return"/>; a
/// re-entrant search on the same thread (say from a filter callback) gets a fresh one instead of sharing.
/// </remarks>
internal sealed unsafe class HnswSearchContext
{
    [ThreadStatic]
    private static HnswSearchContext? t_cached;

    private ushort[] _visited = [];
    private ushort* _visitedBase;
    private ushort _stamp;
    private float[] _keys = new float[64];
    private int[] _slots = new int[64];
    private float[] _repairKeys = new float[64];
    private int[] _repairSlots = new int[64];
    private int[] _neighbours = new int[64];
    private int[] _pendingSlots = new int[64];
    private float[] _pendingKeys = new float[64];
    private float[] _decoded = [];
    private float* _decodedBase;
    private float[] _table = [];
    private float* _tableBase;

    public HnswHeap Candidates { get; } = new();

    public HnswHeap Top { get; } = new();

    public static HnswSearchContext Rent()
    {
        HnswSearchContext? context = t_cached;
        t_cached = null;
        return context ?? new HnswSearchContext();
    }

    public static void Return(HnswSearchContext context) => t_cached = context;

    /// <summary>Starts a search over <paramref name="capacity"/> slots; a slot is visited when its mark equals the stamp.</summary>
    public ushort* BeginQuery(int capacity, out ushort stamp)
    {
        if (_visited.Length < capacity)
        {
            // Pinned so the hot loop can index it through a raw pointer.
            _visited = GC.AllocateArray<ushort>(Math.Max(capacity, _visited.Length * 2), pinned: true);
            _visitedBase = (ushort*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_visited));
            _stamp = 0;
        }
        if (++_stamp == 0)
        {
            // After 65,535 queries the stamps wrap: clear once and start again.
            Array.Clear(_visited);
            _stamp = 1;
        }
        stamp = _stamp;
        return _visitedBase;
    }

    public float[] Keys(int length) => Grow(ref _keys, length);

    public int[] Slots(int length) => Grow(ref _slots, length);

    public float[] RepairKeys(int length) => Grow(ref _repairKeys, length);

    public int[] RepairSlots(int length) => Grow(ref _repairSlots, length);

    public int[] NeighbourBuffer(int length) => Grow(ref _neighbours, length);

    /// <summary>A search's unvisited neighbours of the node it expands, and their keys.</summary>
    public (int[] Slots, float[] Keys) Pending(int length) => (Grow(ref _pendingSlots, length), Grow(ref _pendingKeys, length));

    /// <summary>Two pinned rows of <paramref name="dimension"/> floats (at <c>which</c> = 0 or 1) for decoded stored vectors.</summary>
    public float* Decoded(int which, int dimension)
    {
        if (_decoded.Length < 2 * dimension)
        {
            _decoded = GC.AllocateArray<float>(2 * dimension, pinned: true);
            _decodedBase = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_decoded));
        }
        return _decodedBase + which * dimension;
    }

    /// <summary>A pinned buffer of <paramref name="length"/> floats for a query's distance table (ADC over PQ codes).</summary>
    public float* QueryTable(int length)
    {
        if (_table.Length < length)
        {
            _table = GC.AllocateArray<float>(length, pinned: true);
            _tableBase = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_table));
        }
        return _tableBase;
    }

    private static T[] Grow<T>(ref T[] array, int length)
    {
        if (array.Length < length) array = new T[Math.Max(length, array.Length * 2)];
        return array;
    }
}
