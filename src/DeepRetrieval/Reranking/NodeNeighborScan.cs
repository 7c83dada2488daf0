using System.Runtime.InteropServices;
using DeepRetrieval.Distances;
using DeepRetrieval.Indexes;

namespace DeepRetrieval.Reranking;

/// <summary>
/// One exact pass over all pairs of a node set (row-major vectors) that finds, for every node, its nearest nodes by
/// squared Euclidean distance (itself included, at distance 0), its largest squared distance to any node, and — for
/// the nodes marked as queries — its nearest nodes among the gallery nodes. Time is quadratic in the node count,
/// memory linear: nothing of size nodes × nodes is ever held. The dot products run through the register-blocked
/// <see cref="PanelKernel"/> over tiles of stored vectors kept in cache while a block of probes passes over them.
/// </summary>
internal sealed unsafe class NodeNeighborScan
{
    private const int Width = PanelKernel.Width;
    private const int GroupRows = PanelKernel.GroupRows;
    private const int TilePanels = 8;
    private const int TileRows = TilePanels * Width;
    private const int BlockRows = 8 * GroupRows;

    private readonly float[] _nodes;
    private readonly int _count;
    private readonly int _dimension;

    public NodeNeighborScan(float[] nodes, int count, int dimension)
    {
        _nodes = nodes;
        _count = count;
        _dimension = dimension;
    }

    /// <summary>
    /// Runs the scan. <paramref name="neighborIds"/> / <paramref name="neighborKeys"/> receive count × width nearest
    /// nodes (closest first, ties by node index); <paramref name="rowMaximum"/> the largest squared distance of each
    /// node; for node p with <paramref name="querySlot"/>[p] = s ≥ 0, <paramref name="galleryIds"/> /
    /// <paramref name="galleryKeys"/> row s receives its <paramref name="galleryWidth"/> nearest nodes with index ≥
    /// <paramref name="galleryStart"/>.
    /// </summary>
    public void Run(int width, long[] neighborIds, float[] neighborKeys, float[] rowMaximum,
        int[] querySlot, int galleryStart, int galleryWidth, long[] galleryIds, float[] galleryKeys,
        IProgress<RerankingProgress>? progress, CancellationToken cancellationToken)
    {
        int d = _dimension, n = _count;
        long panelSize = PanelKernel.PanelSize(d);
        int panelCount = (n + Width - 1) / Width;
        float* panels = (float*)NativeMemory.AlignedAlloc((nuint)(panelCount * panelSize * sizeof(float)), 64);
        try
        {
            var norms = new float[n];
            Pack(panels, norms);
            int blocks = (n + BlockRows - 1) / BlockRows;
            long done = 0;
            var options = new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount };
            Parallel.For(0, blocks, options, block =>
            {
                int first = block * BlockRows, rows = Math.Min(BlockRows, n - first);
                ScanBlock(panels, norms, first, rows, width, neighborIds, neighborKeys, rowMaximum,
                    querySlot, galleryStart, galleryWidth, galleryIds, galleryKeys);
                long finished = Interlocked.Add(ref done, rows);
                progress?.Report(new RerankingProgress("k-nearest nodes", finished, n));
            });
        }
        finally
        {
            NativeMemory.AlignedFree(panels);
        }
    }

    private void Pack(float* panels, float[] norms)
    {
        int d = _dimension;
        long panelSize = PanelKernel.PanelSize(d);
        int panelCount = (_count + Width - 1) / Width;
        new Span<float>(panels, checked((int)(panelCount * panelSize))).Clear();
        for (int row = 0; row < _count; row++)
        {
            ReadOnlySpan<float> x = _nodes.AsSpan(row * d, d);
            norms[row] = Distance.InnerProduct(x, x);
            float* target = panels + row / Width * panelSize + row % Width;
            for (int t = 0; t < d; t++) target[(long)t * Width] = x[t];
        }
    }

    private void ScanBlock(float* panels, float[] norms, int first, int rows, int width,
        long[] neighborIds, float[] neighborKeys, float[] rowMaximum,
        int[] querySlot, int galleryStart, int galleryWidth, long[] galleryIds, float[] galleryKeys)
    {
        int d = _dimension, n = _count;
        long panelSize = PanelKernel.PanelSize(d);
        int groups = (rows + GroupRows - 1) / GroupRows;
        var packed = new float[groups * GroupRows * d];
        float* dots = stackalloc float[GroupRows * TileRows];
        Span<int> counts = stackalloc int[rows];
        Span<int> galleryCounts = stackalloc int[rows];
        counts.Clear();
        galleryCounts.Clear();
        for (int r = 0; r < rows; r++) rowMaximum[first + r] = 0f;

        fixed (float* nodes = _nodes)
        fixed (float* a = packed)
        {
            for (int g = 0; g < groups; g++)
                PanelKernel.PackGroup(nodes + (long)(first + g * GroupRows) * d, Math.Min(GroupRows, rows - g * GroupRows), d, a + (long)g * GroupRows * d);
            for (int t0 = 0; t0 < n; t0 += TileRows)
            {
                int tn = Math.Min(TileRows, n - t0);
                int tilePanels = (tn + Width - 1) / Width;
                float* tile = panels + t0 / Width * panelSize;
                for (int g = 0; g < groups; g++)
                {
                    for (int p = 0; p < tilePanels; p++)
                        PanelKernel.GroupTimesPanel(a + (long)g * GroupRows * d, tile + p * panelSize, d, dots + p * Width, TileRows);
                    int groupRows = Math.Min(GroupRows, rows - g * GroupRows);
                    for (int i = 0; i < groupRows; i++)
                    {
                        int local = g * GroupRows + i, probe = first + local;
                        Offer(probe, dots + i * TileRows, norms, t0, tn, width, neighborIds, neighborKeys, ref counts[local], ref rowMaximum[probe],
                            querySlot[probe], galleryStart, galleryWidth, galleryIds, galleryKeys, ref galleryCounts[local]);
                    }
                }
            }
        }

        for (int r = 0; r < rows; r++)
        {
            int probe = first + r;
            new TopKHeap(neighborKeys.AsSpan(probe * width, width), neighborIds.AsSpan(probe * width, width), counts[r]).SortAndPad();
            int slot = querySlot[probe];
            if (slot >= 0)
                new TopKHeap(galleryKeys.AsSpan(slot * galleryWidth, galleryWidth), galleryIds.AsSpan(slot * galleryWidth, galleryWidth), galleryCounts[r]).SortAndPad();
        }
    }

    private static void Offer(int probe, float* dots, float[] norms, int t0, int tn, int width,
        long[] neighborIds, float[] neighborKeys, ref int count, ref float maximum,
        int slot, int galleryStart, int galleryWidth, long[] galleryIds, float[] galleryKeys, ref int galleryCount)
    {
        var heap = new TopKHeap(neighborKeys.AsSpan(probe * width, width), neighborIds.AsSpan(probe * width, width), count);
        var gallery = slot >= 0
            ? new TopKHeap(galleryKeys.AsSpan(slot * galleryWidth, galleryWidth), galleryIds.AsSpan(slot * galleryWidth, galleryWidth), galleryCount)
            : default;
        float probeNorm = norms[probe];
        float max = maximum;
        for (int j = 0; j < tn; j++)
        {
            int node = t0 + j;
            // ‖x‖² + ‖y‖² − 2x·y can round below zero for near-identical vectors, and a node is at exactly 0 from itself.
            float key = node == probe ? 0f : MathF.Max(0f, probeNorm + norms[node] - 2f * dots[j]);
            if (key > max) max = key;
            if (key <= heap.Threshold) heap.Push(key, node);
            if (slot >= 0 && node >= galleryStart && key <= gallery.Threshold) gallery.Push(key, node);
        }

        maximum = max;
        count = heap.Count;
        if (slot >= 0) galleryCount = gallery.Count;
    }
}
