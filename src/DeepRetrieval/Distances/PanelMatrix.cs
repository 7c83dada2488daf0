using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DeepRetrieval.Distances;

/// <summary>
/// Rows stored in <see cref="PanelKernel"/> panels (32 interleaved rows per panel) with their squared norms: the storage of
/// <c>FlatIndex</c> and of the k-means assignment step. Panels live on the pinned object heap, starting at a 64-byte
/// boundary, so every 512-bit load of a panel row touches one cache line and hot loops can use raw pointers without
/// pinning. Padding lanes past the last row stay zero.
/// </summary>
internal sealed unsafe class PanelMatrix
{
    public const int Width = PanelKernel.Width;
    public const int GroupRows = PanelKernel.GroupRows;
    public const int TilePanels = 8;                 // panels per tile: 256 rows, kept in L2 across a query block
    public const int TileRows = TilePanels * Width;
    private const int CacheLineFloats = 64 / sizeof(float);

    private float[] _panels = [];
    private int _panelStart; // floats into _panels where the first panel starts (a 64-byte boundary)
    private float[] _norms = [];
    private float* _mapped; // a mapped file's panels (read-only), or null

    public PanelMatrix(int dimension) => Dimension = dimension;

    public int Dimension { get; }

    /// <summary>Rows the panels can hold; a multiple of <see cref="Width"/>.</summary>
    public int Capacity => _norms.Length;

    /// <summary>The squared norm of every row (length <see cref="Capacity"/>).</summary>
    public float[] Norms => _norms;

    public long MemoryUsageBytes => (long)_panels.Length * sizeof(float) + (long)_norms.Length * sizeof(float);

    /// <summary>The most rows the panels of this dimension can hold in one array.</summary>
    public long MaxRows => (Array.MaxLength - CacheLineFloats) / PanelKernel.PanelSize(Dimension) * Width;

    /// <summary>The first panel. The panels never move (pinned object heap), so the address stays valid while this holds them.</summary>
    public float* PanelBase => _mapped is not null ? _mapped : (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_panels)) + _panelStart;

    /// <summary>Floats in the panels that hold the first <paramref name="rows"/> rows (whole panels).</summary>
    public long PanelFloats(int rows) => (rows + (long)Width - 1) / Width * PanelSize;

    /// <summary>
    /// Uses panels in place from a mapped file (read-only: nothing may be written or grown after this), with their norms,
    /// one per row of the panels (a multiple of <see cref="Width"/>).
    /// </summary>
    public void UseMapped(float* panels, float[] norms)
    {
        _mapped = panels;
        _panels = [];
        _panelStart = 0;
        _norms = norms;
    }

    /// <summary>Copies whole panels and their norms (as written from <see cref="PanelBase"/> and <see cref="Norms"/>) into an empty matrix.</summary>
    public void LoadPanels(ReadOnlySpan<float> panels, ReadOnlySpan<float> norms)
    {
        EnsureCapacity(norms.Length);
        panels.CopyTo(_panels.AsSpan(_panelStart));
        norms.CopyTo(_norms);
    }

    public long PanelSize => PanelKernel.PanelSize(Dimension);

    /// <summary>Grows the panels (by doubling) to hold at least <paramref name="rows"/> rows, keeping the rows held so far.</summary>
    /// <returns>The new capacity.</returns>
    public int EnsureCapacity(int rows)
    {
        if (Capacity >= rows) return Capacity;
        int capacity = (int)Math.Max(rows, Math.Max(Width, Capacity * 2L));
        capacity = (capacity + Width - 1) / Width * Width;
        capacity = (int)Math.Min(capacity, MaxRows);
        long panelFloats = capacity / Width * PanelKernel.PanelSize(Dimension);
        float[] panels = GC.AllocateArray<float>((int)panelFloats + CacheLineFloats, pinned: true);
        int start = CacheLineFloats - (int)((nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(panels)) % 64 / sizeof(float));
        start %= CacheLineFloats;
        if (_panels.Length > 0)
            _panels.AsSpan(_panelStart, _panels.Length - CacheLineFloats).CopyTo(panels.AsSpan(start));
        _panels = panels;
        _panelStart = start;
        Array.Resize(ref _norms, capacity);
        return capacity;
    }

    public void WriteRow(int row, ReadOnlySpan<float> values)
    {
        long at = PanelStart(row);
        for (int t = 0; t < Dimension; t++, at += Width) _panels[at] = values[t];
        _norms[row] = Distance.InnerProduct(values, values);
    }

    /// <summary>Copies row <paramref name="row"/> into <paramref name="destination"/> (<see cref="Dimension"/> values); allocation-free and safe for concurrent readers.</summary>
    public void ReadRow(int row, Span<float> destination)
    {
        if (_mapped is not null)
        {
            float* start = _mapped + row / Width * PanelSize + row % Width;
            for (int t = 0; t < Dimension; t++) destination[t] = start[(long)t * Width];
            return;
        }
        long at = PanelStart(row);
        for (int t = 0; t < Dimension; t++, at += Width) destination[t] = _panels[at];
    }

    public delegate void GroupTileAction(float* dots, int firstQuery, int queryRows, int firstRow, int rowCount);

    /// <summary>
    /// For each tile of <see cref="TileRows"/> stored rows (of the first <paramref name="rowCount"/>), and within it each group
    /// of 8 queries, computes <c>dots[i · TileRows + j] = q_(firstQuery + i) · x_(firstRow + j)</c> and hands the 8 × TileRows
    /// block to the action while it is still in L1. Padding lanes past the last row are zero.
    /// </summary>
    public void ForEachGroupTile(float* queries, int queryCount, int rowCount, GroupTileAction action)
    {
        int groups = (queryCount + GroupRows - 1) / GroupRows;
        long panelSize = PanelSize;
        float[] packed = ArrayPool<float>.Shared.Rent(groups * GroupRows * Dimension);
        float* unaligned = stackalloc float[GroupRows * TileRows + CacheLineFloats];
        float* dots = AlignToCacheLine(unaligned);
        try
        {
            fixed (float* a = packed)
            {
                float* panels = PanelBase;
                for (int g = 0; g < groups; g++)
                    PanelKernel.PackGroup(queries + (long)g * GroupRows * Dimension, Math.Min(GroupRows, queryCount - g * GroupRows), Dimension, a + (long)g * GroupRows * Dimension);
                for (int t0 = 0; t0 < rowCount; t0 += TileRows)
                {
                    int tn = Math.Min(TileRows, rowCount - t0);
                    int tilePanels = (tn + Width - 1) / Width;
                    float* tile = panels + t0 / Width * panelSize;
                    for (int g = 0; g < groups; g++)
                    {
                        float* group = a + (long)g * GroupRows * Dimension;
                        for (int p = 0; p < tilePanels; p++)
                            PanelKernel.GroupTimesPanel(group, tile + p * panelSize, Dimension, dots + p * Width, TileRows);
                        action(dots, g * GroupRows, Math.Min(GroupRows, queryCount - g * GroupRows), t0, tn);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packed);
        }
    }

    /// <summary>
    /// The nearest of the first <paramref name="rowCount"/> stored rows to each query: the smallest squared distance
    /// (<paramref name="innerProduct"/> false) or the largest inner product, ties to the lower row. Writes the row and the
    /// distance (or inner product) of each query; queries run in blocks on up to <paramref name="threads"/> threads, and the
    /// result does not depend on the thread count.
    /// </summary>
    public void Nearest(ReadOnlySpan<float> queries, int rowCount, bool innerProduct, Span<int> rows, Span<float> values, int threads)
    {
        int queryCount = queries.Length / Dimension;
        if (queryCount == 0) return;
        int blockSize = Math.Min(64 * GroupRows, (queryCount + threads - 1) / threads);
        blockSize = (blockSize + GroupRows - 1) / GroupRows * GroupRows;
        int blocks = (queryCount + blockSize - 1) / blockSize;
        fixed (float* q = queries)
        fixed (int* outRows = rows)
        fixed (float* outValues = values)
        {
            var job = new NearestJob(this, q, queryCount, rowCount, blockSize, innerProduct, outRows, outValues);
            if (blocks == 1) job.RunBlock(0);
            else Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = threads }, job.RunBlock);
        }
    }

    private long PanelStart(int row) => _panelStart + row / Width * PanelKernel.PanelSize(Dimension) + row % Width;

    private static float* AlignToCacheLine(float* p) => (float*)(((nuint)p + 63) & ~(nuint)63);

    // Keys as FlatIndex ranks them (‖x‖² − 2 q·x for L2, −q·x for inner product; smaller is better), so an assignment is
    // exactly what a flat search with k = 1 returns.
    private sealed class NearestJob(PanelMatrix matrix, float* queries, int queryCount, int rowCount, int blockSize, bool innerProduct, int* rows, float* values)
    {
        public void RunBlock(int block)
        {
            int q0 = block * blockSize, qn = Math.Min(blockSize, queryCount - q0);
            int d = matrix.Dimension;
            float* best = stackalloc float[qn];
            int* bestRow = stackalloc int[qn];
            for (int i = 0; i < qn; i++)
            {
                best[i] = float.PositiveInfinity;
                bestRow[i] = -1;
            }
            float[] norms = matrix._norms;
            matrix.ForEachGroupTile(queries + (long)q0 * d, qn, rowCount, (dots, first, groupRows, t0, tn) =>
            {
                for (int i = 0; i < groupRows; i++)
                {
                    float* row = dots + i * TileRows;
                    int query = first + i;
                    float key = best[query];
                    int at = bestRow[query];
                    for (int j = 0; j < tn; j++)
                    {
                        float candidate = innerProduct ? -row[j] : norms[t0 + j] - (row[j] + row[j]);
                        if (candidate < key || at < 0)
                        {
                            key = candidate;
                            at = t0 + j;
                        }
                    }
                    best[query] = key;
                    bestRow[query] = at;
                }
            });
            for (int i = 0; i < qn; i++)
            {
                rows[q0 + i] = bestRow[i];
                if (innerProduct)
                {
                    values[q0 + i] = -best[i];
                }
                else
                {
                    var query = new ReadOnlySpan<float>(queries + (long)(q0 + i) * d, d);
                    values[q0 + i] = Math.Max(0f, best[i] + Distance.InnerProduct(query, query));
                }
            }
        }
    }
}
