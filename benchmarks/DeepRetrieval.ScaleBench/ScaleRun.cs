using System.Diagnostics;
using System.Runtime.CompilerServices;
using DeepRetrieval.AnnBench;
using DeepRetrieval.Data;
using DeepRetrieval.Evaluation;
using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Hnsw;

namespace DeepRetrieval.ScaleBench;

/// <summary>
/// Builds one index from <c>DIR/base.fvecs</c> without holding the base: trains on its first rows, then adds it in
/// chunks read one after the other (only the <c>Add</c> calls are timed, not the file reading), and prints the index's
/// bytes and the process's resident memory; then, per search setting, recall@k and QPS one query per call and in one
/// batch (a warm-up, then the best of <c>runs</c>).
/// </summary>
internal sealed class ScaleRun(string directory, string description, int trainRows, int chunkRows, int buildThreads,
    int searchThreads, int k, int runs, int? queryLimit)
{
    public void Run(SearchParameterGrid grid)
    {
        VectorSet<float> queries = VecsReader.ReadFvecs(Path.Combine(directory, "query.fvecs"), queryLimit);
        VectorSet<int> truth = VecsReader.ReadIvecs(Path.Combine(directory, "groundtruth.ivecs"), queryLimit);
        if (truth.Count < queries.Count || truth.Dimension < k)
            throw new InvalidDataException($"{directory}/groundtruth.ivecs has {truth.Count} × {truth.Dimension}; need {queries.Count} × at least {k}.");
        int d = queries.Dimension;
        IVectorIndex index = IndexFactory.Create(d, description);
        if (index is HnswIndex hnsw) hnsw.BuildThreads = buildThreads;
        Console.WriteLine($"{description}: {queries.Count:N0} queries × {d}, build threads {buildThreads}, search threads {searchThreads}; {ProcessMemory.Describe()}");

        using var file = new FileStream(Path.Combine(directory, "base.fvecs"), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        double trainSeconds = index.IsTrained ? 0 : Train(index, file, d);
        double addSeconds = AddAll(index, file, d);
        Console.WriteLine($"add {addSeconds:F2} s; train + add {trainSeconds + addSeconds:F2} s; {MemoryFootprint.Of(index)}; {ProcessMemory.Describe()}");

        Console.WriteLine($"{"setting",-28} {"recall@" + k,9} {"QPS single",11} {"QPS batch",10} {"batch rec",9}");
        var search = new SearchOptions { MaxDegreeOfParallelism = searchThreads };
        var ids = new long[queries.Count * k];
        var distances = new float[ids.Length];
        foreach (SearchParameterSet parameters in grid.Combinations())
        {
            foreach ((string name, double value) in parameters.Values) index.SetSearchParameter(name, value);
            double single = Best(() =>
            {
                for (int q = 0; q < queries.Count; q++)
                    index.Search(queries.Data.AsSpan(q * d, d), k, ids.AsSpan(q * k, k), distances.AsSpan(q * k, k), search);
            });
            double singleRecall = NeighborRecall.RecallAtK(ids, k, truth.Data, truth.Dimension, k);
            double batch = Best(() => index.Search(queries.Data, k, ids, distances, search));
            double batchRecall = NeighborRecall.RecallAtK(ids, k, truth.Data, truth.Dimension, k);
            Console.WriteLine(FormattableString.Invariant(
                $"{(parameters.Values.Count == 0 ? "(default)" : parameters.ToString()),-28} {singleRecall,9:F4} {queries.Count / single,11:F0} {queries.Count / batch,10:F0} {batchRecall,9:F4}"));
        }
        Console.WriteLine($"end: {ProcessMemory.Describe()}");
        (index as IDisposable)?.Dispose();
    }

    // Reading the sample and the chunks in methods of their own lets the collector free them once they return: in
    // one long method, tier-0 code keeps locals alive to its end and the resident figures would count them.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private double Train(IVectorIndex index, FileStream file, int d)
    {
        VectorSet<float> sample = VecsReader.ReadFvecs(file, trainRows, "base.fvecs");
        Require(sample.Dimension == d, "base.fvecs and query.fvecs differ in dimension");
        long t0 = Stopwatch.GetTimestamp();
        index.Train(sample.Data);
        double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        file.Position = 0;
        Console.WriteLine($"train {seconds:F2} s on {sample.Count:N0} rows");
        return seconds;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private double AddAll(IVectorIndex index, FileStream file, int d)
    {
        double seconds = 0;
        while (AddChunk(index, file, d, ref seconds)) { }
        return seconds;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool AddChunk(IVectorIndex index, FileStream file, int d, ref double seconds)
    {
        VectorSet<float> chunk = VecsReader.ReadFvecs(file, chunkRows, "base.fvecs");
        if (chunk.Count == 0) return false;
        Require(chunk.Dimension == d, "base.fvecs and query.fvecs differ in dimension");
        long t0 = Stopwatch.GetTimestamp();
        index.Add(chunk.Data);
        seconds += Stopwatch.GetElapsedTime(t0).TotalSeconds;
        return true;
    }

    // A warm-up pass, then the best of `runs` timed passes, in seconds.
    private double Best(Action pass)
    {
        pass();
        double best = double.MaxValue;
        for (int run = 0; run < runs; run++)
        {
            long t0 = Stopwatch.GetTimestamp();
            pass();
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        return best;
    }

    private static void Require(bool condition, string message)
    {
        if (!condition) throw new InvalidDataException(message);
    }
}
