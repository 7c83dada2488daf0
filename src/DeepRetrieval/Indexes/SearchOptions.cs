namespace DeepRetrieval.Indexes;

/// <summary>Per-call search settings, the counterpart of Faiss's <c>SearchParameters</c>.</summary>
public class SearchOptions
{
    /// <summary>Shared default options: all cores, no filter.</summary>
    public static SearchOptions Default { get; } = new();

    /// <summary>
    /// The most threads a batched search may use; 0 (the default) means <see cref="Environment.ProcessorCount"/>.
    /// A single query always runs on the calling thread.
    /// </summary>
    public int MaxDegreeOfParallelism { get; init; }

    /// <summary>When set, only ids for which this returns true can be returned. It must be thread-safe.</summary>
    public Func<long, bool>? Filter { get; init; }

    internal int ResolveThreads(int work)
    {
        if (MaxDegreeOfParallelism < 0)
            throw new ArgumentOutOfRangeException(nameof(MaxDegreeOfParallelism), MaxDegreeOfParallelism, "MaxDegreeOfParallelism must be 0 (all cores) or positive.");
        int threads = MaxDegreeOfParallelism == 0 ? Environment.ProcessorCount : MaxDegreeOfParallelism;
        return Math.Max(1, Math.Min(threads, work));
    }
}
