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

    private readonly Func<long, bool>? _filter;
    private readonly IdSelector? _selector;

    /// <summary>
    /// When set, only ids for which this returns true can be returned. It must be thread-safe. A bare predicate tells
    /// the index nothing about how many ids pass, so it estimates that by testing a sample of its ids; prefer
    /// <see cref="Selector"/> when the allowed set is known. Set at most one of the two.
    /// </summary>
    /// <exception cref="ArgumentException"><see cref="Selector"/> is already set.</exception>
    public Func<long, bool>? Filter
    {
        get => _filter;
        init
        {
            if (value is not null && _selector is not null)
                throw new ArgumentException("Set either Filter or Selector, not both; an IdSelector can wrap any test.", nameof(Filter));
            _filter = value;
        }
    }

    /// <summary>
    /// When set, only the ids the selector allows can be returned (Faiss's <c>SearchParameters.sel</c>). Its
    /// <see cref="IdSelector.Count"/> lets HNSW switch to an exact scan of the allowed ids when few pass.
    /// </summary>
    /// <exception cref="ArgumentException"><see cref="Filter"/> is already set.</exception>
    public IdSelector? Selector
    {
        get => _selector;
        init
        {
            if (value is not null && _filter is not null)
                throw new ArgumentException("Set either Filter or Selector, not both; an IdSelector can wrap any test.", nameof(Selector));
            _selector = value;
        }
    }

    /// <summary>
    /// The test every returned id must pass: <see cref="Filter"/>, or <see cref="Selector"/>'s
    /// <see cref="IdSelector.Contains"/>; null when neither is set. Custom indexes filter with this.
    /// </summary>
    public Func<long, bool>? Predicate => _filter ?? _selector?.AsPredicate;

    internal int ResolveThreads(int work)
    {
        if (MaxDegreeOfParallelism < 0)
            throw new ArgumentOutOfRangeException(nameof(MaxDegreeOfParallelism), MaxDegreeOfParallelism, "MaxDegreeOfParallelism must be 0 (all cores) or positive.");
        int threads = MaxDegreeOfParallelism == 0 ? Environment.ProcessorCount : MaxDegreeOfParallelism;
        return Math.Max(1, Math.Min(threads, work));
    }
}
