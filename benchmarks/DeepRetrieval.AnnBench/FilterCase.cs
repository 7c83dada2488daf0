using System.Diagnostics;
using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Hnsw;
using Microsoft.Extensions.Logging;

namespace DeepRetrieval.AnnBench;

/// <summary>
/// One filtered workload (<c>--filter-selectivity</c>, <c>--filter-kind</c>): allowed-id sets, which set each query
/// uses, and each query's exact k nearest within its set.
/// </summary>
/// <remarks>
/// <c>random</c>: one set of ⌈s·N⌉ ids drawn uniformly (seeded), the same for every query. <c>centroid</c>: sixteen
/// sets, each the ⌈s·N⌉ base vectors nearest a random base vector (the "centroid"); query i uses set i mod 16, so the
/// allowed ids form one region of the space that may hold the query's neighbours or lie far from it — the filter is
/// correlated with the geometry, which is what makes it hard for a graph. Ground truth: an exact search of the
/// allowed rows (Flat, all cores).
/// </remarks>
internal sealed class FilterCase
{
    public const int CentroidGroups = 16;

    private FilterCase(string kind, double selectivity, long[][] allowed, int[] groupOf, long[] truth)
    {
        Kind = kind;
        Selectivity = selectivity;
        Allowed = allowed;
        GroupOf = groupOf;
        Truth = truth;
    }

    /// <summary><c>random</c> or <c>centroid</c>.</summary>
    public string Kind { get; }

    public double Selectivity { get; }

    /// <summary>The allowed ids of each group, ascending.</summary>
    public long[][] Allowed { get; }

    /// <summary>The group of each query.</summary>
    public int[] GroupOf { get; }

    /// <summary>k ids per query: its exact nearest among its group's ids.</summary>
    public long[] Truth { get; }

    public string Label => FormattableString.Invariant($"{Kind} {Selectivity:P0}");

    /// <summary>A selector (or predicate options) per group as the <c>--filter-api</c> asks.</summary>
    public SearchOptions[] OptionsFor(string api, int threads, int? exactScanThreshold) => Allowed.Select(ids => api switch
    {
        "batch" => new HnswSearchOptions { MaxDegreeOfParallelism = threads, ExactScanThreshold = exactScanThreshold, Selector = new IdSelectorBatch(ids) },
        "predicate" => new HnswSearchOptions { MaxDegreeOfParallelism = threads, ExactScanThreshold = exactScanThreshold, Filter = Predicate(ids) },
        _ => (SearchOptions)new HnswSearchOptions { MaxDegreeOfParallelism = threads, ExactScanThreshold = exactScanThreshold, Selector = new IdSelectorBitmap(ids) },
    }).ToArray();

    private static Func<long, bool> Predicate(long[] ids)
    {
        var set = new HashSet<long>(ids);
        return set.Contains;
    }

    public static FilterCase Create(BenchDataset data, string kind, double selectivity, int k, int seed, ILogger log)
    {
        int n = data.Base.Count, d = data.Dimension;
        int allowedCount = Math.Max(k, (int)Math.Ceiling(selectivity * n));
        var random = new Random(seed);
        long[][] allowed;
        if (kind == "random")
        {
            int[] order = Enumerable.Range(0, n).ToArray();
            random.Shuffle(order);
            long[] ids = order.Take(allowedCount).Select(i => (long)i).Order().ToArray();
            allowed = [ids];
        }
        else
        {
            var flat = new FlatIndex(d, data.Metric);
            flat.Add(data.Base.Data);
            allowed = new long[CentroidGroups][];
            var centre = new float[CentroidGroups * d];
            for (int g = 0; g < CentroidGroups; g++)
                data.Base.Data.AsSpan(random.Next(n) * d, d).CopyTo(centre.AsSpan(g * d, d));
            var ids = new long[CentroidGroups * allowedCount];
            flat.Search(centre, allowedCount, ids, new float[ids.Length], new SearchOptions { MaxDegreeOfParallelism = 0 });
            for (int g = 0; g < CentroidGroups; g++) allowed[g] = ids.AsSpan(g * allowedCount, allowedCount).ToArray().Order().ToArray();
        }
        int queries = data.Queries.Count;
        int[] groupOf = Enumerable.Range(0, queries).Select(q => q % allowed.Length).ToArray();
        long start = Stopwatch.GetTimestamp();
        long[] truth = ExactWithin(data, allowed, groupOf, k);
        log.LogInformation("{Message}", FormattableString.Invariant(
            $"Filter {kind} {selectivity:P0}: {allowed.Length} set(s) of {allowedCount:N0} ids, ground truth in {Stopwatch.GetElapsedTime(start).TotalSeconds:F1} s"));
        return new FilterCase(kind, selectivity, allowed, groupOf, truth);
    }

    // Each group's queries against a Flat index of only that group's rows, labelled with their base ids.
    private static long[] ExactWithin(BenchDataset data, long[][] allowed, int[] groupOf, int k)
    {
        int d = data.Dimension;
        var truth = new long[groupOf.Length * k];
        for (int g = 0; g < allowed.Length; g++)
        {
            var flat = new FlatIndex(d, data.Metric);
            var rows = new float[allowed[g].Length * d];
            for (int i = 0; i < allowed[g].Length; i++)
                data.Base.Data.AsSpan((int)allowed[g][i] * d, d).CopyTo(rows.AsSpan(i * d, d));
            flat.Add(rows, allowed[g]);
            int[] members = Enumerable.Range(0, groupOf.Length).Where(q => groupOf[q] == g).ToArray();
            var queries = new float[members.Length * d];
            for (int i = 0; i < members.Length; i++) data.Queries.Data.AsSpan(members[i] * d, d).CopyTo(queries.AsSpan(i * d, d));
            var ids = new long[members.Length * k];
            flat.Search(queries, k, ids, new float[ids.Length], new SearchOptions { MaxDegreeOfParallelism = 0 });
            for (int i = 0; i < members.Length; i++) ids.AsSpan(i * k, k).CopyTo(truth.AsSpan(members[i] * k, k));
        }
        return truth;
    }

    /// <summary>
    /// Writes the case for a peer's driver: <c>NAME.groups</c> (int32 group count, then per group an int32 count and
    /// that many int32 ids), <c>NAME.queries</c> (int32 group per query) and <c>NAME.truth</c> (int32 k ids per query).
    /// </summary>
    public void Dump(string directory, int k)
    {
        Directory.CreateDirectory(directory);
        string name = Path.Combine(directory, FormattableString.Invariant($"{Kind}-{Selectivity:R}"));
        using (var writer = new BinaryWriter(File.Create(name + ".groups")))
        {
            writer.Write(Allowed.Length);
            foreach (long[] ids in Allowed)
            {
                writer.Write(ids.Length);
                foreach (long id in ids) writer.Write((int)id);
            }
        }
        using (var writer = new BinaryWriter(File.Create(name + ".queries")))
            foreach (int g in GroupOf) writer.Write(g);
        using (var writer = new BinaryWriter(File.Create(name + ".truth")))
            foreach (long id in Truth) writer.Write((int)id);
    }
}
