using System.Runtime.Intrinsics;
using DeepRetrieval.Distances;

namespace DeepRetrieval.Indexes.Ivf;

/// <summary>
/// The list-major scan of a batch: every probed list is read once for all the batch's queries that probe it, instead of
/// once per query, so it comes from memory once per batch and is compared from cache. Raw-float lists are compared four
/// queries against each row at a time; lists of codes whose codec keeps no per-query state (SQ) go through the codec's
/// own list scan, query after query, while the list stays in cache.
/// </summary>
/// <remarks>
/// Exactness: a lane of the four-query kernel computes (x − qᵢ)² (or x·qᵢ) with the same operations in the same order
/// as the one-query path's four-row kernel computes (qᵢ − x)², the codec path makes the one-query path's very calls,
/// and <see cref="TopKHeap"/> orders ties by id whatever order candidates arrive in: a query's results equal those of
/// searching it alone with the same lists probed.
/// </remarks>
internal sealed unsafe class IvfBatchScan(IvfIndex index, IvfList[] lists, IvfListCodec codec, int nprobe, int k, Func<long, bool>? filter)
{
    /// <summary>Whether the codec can be scanned list-major: raw floats, or codes without a per-query table.</summary>
    public static bool Supports(IvfListCodec codec) => codec is IvfFlatCodec || codec.TableSize == 0;

    // Rows compared with every query group before moving on: 64 rows of 784 floats (200 KB) stay in L2.
    private const int RowTile = 64;

    /// <summary>Scans the lists for queries <paramref name="first"/> … first + count − 1 and writes their results.</summary>
    /// <param name="queries">All queries, prepared (normalised for cosine), row-major.</param>
    /// <param name="probes">nprobe list numbers per query (−1: none).</param>
    /// <param name="first">The first query of this part of the batch.</param>
    /// <param name="count">Queries in this part.</param>
    /// <param name="ids">k ids per query of the whole batch.</param>
    /// <param name="distances">k distances per query of the whole batch.</param>
    /// <param name="scratch">The thread's buffers (the codec path's keys).</param>
    public void Run(float* queries, long* probes, int first, int count, long* ids, float* distances, IvfScratch scratch)
    {
        bool floats = codec is IvfFlatCodec;
        // Which of this part's queries probe each list, as compressed rows.
        var starts = new int[lists.Length + 1];
        for (int q = first; q < first + count; q++)
            for (int p = 0; p < nprobe; p++)
                if (probes[(long)q * nprobe + p] is >= 0 and var list) starts[list + 1]++;
        for (int l = 0; l < lists.Length; l++) starts[l + 1] += starts[l];
        var members = new int[starts[lists.Length]];
        var fill = (int[])starts.Clone();
        for (int q = first; q < first + count; q++)
            for (int p = 0; p < nprobe; p++)
                if (probes[(long)q * nprobe + p] is >= 0 and var list) members[fill[list]++] = q;

        var heaps = new Heaps(ids, distances, k, first, count, filter);
        for (int l = 0; l < lists.Length; l++)
        {
            int from = starts[l], to = starts[l + 1];
            IvfList list = lists[l];
            int n = list.Count;
            if (from == to || n == 0) continue;
            if (!floats)
            {
                for (int m = from; m < to; m++) ScanCodes(queries, members[m], l, list, heaps, scratch);
                continue;
            }
            fixed (byte* codes = list.Codes)
            fixed (long* listIds = list.Ids)
            {
                for (int r0 = 0; r0 < n; r0 += RowTile)
                {
                    int r1 = Math.Min(n, r0 + RowTile);
                    int m = from;
                    for (; m + 4 <= to; m += 4)
                        ScanFour(queries, members[m], members[m + 1], members[m + 2], members[m + 3], (float*)codes, listIds, r0, r1, heaps);
                    for (; m < to; m++)
                        ScanOne(queries, members[m], (float*)codes, listIds, r0, r1, heaps);
                }
            }
        }
        heaps.Finish(codec.Similarity);
    }

    private void ScanCodes(float* queries, int q, int list, IvfList entries, Heaps heaps, IvfScratch scratch)
    {
        var query = new ReadOnlySpan<float>(queries + (long)q * codec.Dimension, codec.Dimension);
        int n = entries.Count;
        Span<float> keys = scratch.KeysFor(n);
        codec.ComputeKeys(query, list, index.CentroidOf(list), index.CoarseValue(query, list), entries.Codes, n, keys, scratch);
        ReadOnlySpan<long> listIds = entries.Ids;
        for (int i = 0; i < n; i++)
            if (keys[i] <= heaps.Threshold(q)) heaps.Offer(q, keys[i], listIds[i]);
    }

    private void ScanFour(float* queries, int q0, int q1, int q2, int q3, float* rows, long* listIds, int r0, int r1, Heaps heaps)
    {
        int d = codec.Dimension;
        bool similarity = codec.Similarity;
        ref float y0 = ref *(queries + (long)q0 * d);
        ref float y1 = ref *(queries + (long)q1 * d);
        ref float y2 = ref *(queries + (long)q2 * d);
        ref float y3 = ref *(queries + (long)q3 * d);
        for (int r = r0; r < r1; r++)
        {
            ref float x = ref *(rows + (long)r * d);
            Vector128<float> keys = similarity
                ? -Distance.InnerProductUnchecked4(ref x, ref y0, ref y1, ref y2, ref y3, d)
                : Distance.SquaredL2Unchecked4(ref x, ref y0, ref y1, ref y2, ref y3, d);
            Vector128<float> thresholds = Vector128.Create(heaps.Threshold(q0), heaps.Threshold(q1), heaps.Threshold(q2), heaps.Threshold(q3));
            uint pass = Vector128.LessThanOrEqual(keys, thresholds).ExtractMostSignificantBits();
            if (pass == 0) continue;
            long id = listIds[r];
            if ((pass & 1) != 0) heaps.Offer(q0, keys.GetElement(0), id);
            if ((pass & 2) != 0) heaps.Offer(q1, keys.GetElement(1), id);
            if ((pass & 4) != 0) heaps.Offer(q2, keys.GetElement(2), id);
            if ((pass & 8) != 0) heaps.Offer(q3, keys.GetElement(3), id);
        }
    }

    private void ScanOne(float* queries, int q, float* rows, long* listIds, int r0, int r1, Heaps heaps)
    {
        int d = codec.Dimension;
        bool similarity = codec.Similarity;
        ref float y = ref *(queries + (long)q * d);
        for (int r = r0; r < r1; r++)
        {
            ref float x = ref *(rows + (long)r * d);
            float key = similarity ? -Distance.InnerProductUnchecked(ref x, ref y, d) : Distance.SquaredL2Unchecked(ref x, ref y, d);
            if (key <= heaps.Threshold(q)) heaps.Offer(q, key, listIds[r]);
        }
    }

    // One top-k heap per query of the part, kept in the caller's result rows, with each heap's threshold cached so the
    // scan compares four keys with four thresholds at once.
    private sealed class Heaps(long* ids, float* distances, int k, int first, int count, Func<long, bool>? filter)
    {
        private readonly int[] _counts = new int[count];
        private readonly float[] _thresholds = CreateThresholds(count);

        private static float[] CreateThresholds(int count)
        {
            var thresholds = new float[count];
            thresholds.AsSpan().Fill(float.PositiveInfinity);
            return thresholds;
        }

        public float Threshold(int query) => _thresholds[query - first];

        public void Offer(int query, float key, long id)
        {
            if (filter is not null && !filter(id)) return;
            int i = query - first;
            var heap = HeapOf(query, _counts[i]);
            heap.Push(key, id);
            _counts[i] = heap.Count;
            _thresholds[i] = heap.Threshold;
        }

        public void Finish(bool similarity)
        {
            for (int i = 0; i < count; i++)
            {
                int query = first + i;
                int found = HeapOf(query, _counts[i]).SortAndPad();
                if (similarity)
                    for (int j = 0; j < found; j++) distances[(long)query * k + j] = -distances[(long)query * k + j];
            }
        }

        private TopKHeap HeapOf(int query, int heapCount) =>
            new(new Span<float>(distances + (long)query * k, k), new Span<long>(ids + (long)query * k, k), heapCount);
    }
}
