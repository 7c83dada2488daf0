using DeepRetrieval.Indexes;
using Microsoft.Extensions.VectorData;

namespace DeepRetrieval.VectorData.Storage;

/// <summary>
/// How a vector column's <c>IndexKind</c> becomes a DeepRetrieval index: the abstraction's well-known kinds map to
/// factory descriptions, and any other string is taken as an <see cref="IndexFactory"/> description itself
/// (for example <c>HNSW32,SQ8</c> or <c>OPQ16,IVF1024,PQ16,RFlat</c>).
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term>IndexKind</term><description>index</description></listheader>
/// <item><term>Flat (default)</term><description><c>Flat</c>: exact.</description></item>
/// <item><term>Hnsw</term><description><c>HNSW32</c>, search beam <c>ef</c> 64.</description></item>
/// <item><term>IvfFlat</term><description><c>IVF&lt;n&gt;,Flat</c>, trained once the column holds the training threshold of
/// vectors; n is the power of two at or below min(4√N, N/39) (Faiss's guidance, 39 training points per list), nprobe √n (pgvector's starting point).</description></item>
/// <item><term>QuantizedFlat</term><description><c>SQ8</c> (8-bit scalar quantization, exhaustive), trained at the threshold.</description></item>
/// <item><term>Dynamic</term><description><c>Flat</c> until the threshold, then <c>HNSW32</c> (ef 64) built over all vectors.</description></item>
/// <item><term>DiskAnn</term><description>not supported.</description></item>
/// </list>
/// <para>Any description whose index needs training (IVF, PQ, SQ, OPQ, PCA …) is served by an exact <c>Flat</c> index until the
/// column holds the training threshold of vectors; then the target index is trained on all of them and replaces it.</para>
/// </remarks>
public sealed class IndexPlan
{
    /// <summary>The search beam set on HNSW indexes made for <c>IndexKind.Hnsw</c> and <c>IndexKind.Dynamic</c>.</summary>
    public const int DefaultHnswEf = 64;

    private const string HnswDescription = "HNSW32";
    private const string AutomaticIvf = "IVF(auto),Flat";

    private readonly int _dimension;
    private readonly Metric _metric;
    private readonly IReadOnlyDictionary<string, double> _searchParameters;

    private IndexPlan(string indexKind, string description, int dimension, Metric metric, bool needsPromotion, IReadOnlyDictionary<string, double> searchParameters)
    {
        IndexKind = indexKind;
        Description = description;
        _dimension = dimension;
        _metric = metric;
        NeedsPromotion = needsPromotion;
        _searchParameters = searchParameters;
    }

    /// <summary>The column's index kind as the application wrote it.</summary>
    public string IndexKind { get; }

    /// <summary>The factory description of the target index (<c>IVF(auto),Flat</c> when the list count is chosen at training).</summary>
    public string Description { get; }

    /// <summary>True when the column starts on an exact <c>Flat</c> index and switches to the target at the training threshold.</summary>
    public bool NeedsPromotion { get; }

    /// <summary>Resolves a column's index kind.</summary>
    /// <param name="indexKind">An abstraction <c>IndexKind</c> name, a factory description, or null for Flat.</param>
    /// <param name="dimension">Vector dimension.</param>
    /// <param name="metric">The metric of the column's distance function.</param>
    /// <param name="searchParameters">Search-time parameters (<c>ef</c>, <c>nprobe</c>) that override the defaults, or null.</param>
    /// <exception cref="NotSupportedException">DiskAnn, or a string that is neither a known kind nor a valid description for this dimension and metric.</exception>
    public static IndexPlan Resolve(string? indexKind, int dimension, Metric metric, IReadOnlyDictionary<string, double>? searchParameters = null)
    {
        indexKind ??= Microsoft.Extensions.VectorData.IndexKind.Flat;
        var parameters = new Dictionary<string, double>(StringComparer.Ordinal);
        IndexPlan plan;
        switch (indexKind)
        {
            case Microsoft.Extensions.VectorData.IndexKind.Flat:
                plan = new IndexPlan(indexKind, FlatIndex.KindName, dimension, metric, false, parameters);
                break;
            case Microsoft.Extensions.VectorData.IndexKind.Hnsw:
                parameters["ef"] = DefaultHnswEf;
                plan = new IndexPlan(indexKind, HnswDescription, dimension, metric, false, parameters);
                break;
            case Microsoft.Extensions.VectorData.IndexKind.Dynamic:
                parameters["ef"] = DefaultHnswEf;
                plan = new IndexPlan(indexKind, HnswDescription, dimension, metric, true, parameters);
                break;
            case Microsoft.Extensions.VectorData.IndexKind.IvfFlat:
                plan = new IndexPlan(indexKind, AutomaticIvf, dimension, metric, true, parameters);
                break;
            case Microsoft.Extensions.VectorData.IndexKind.QuantizedFlat:
                plan = new IndexPlan(indexKind, "SQ8", dimension, metric, true, parameters);
                break;
            case Microsoft.Extensions.VectorData.IndexKind.DiskAnn:
                throw new NotSupportedException(
                    "IndexKind.DiskAnn is not supported by the DeepRetrieval vector store; use Hnsw, IvfFlat, Flat, QuantizedFlat, Dynamic or an index factory description such as \"IVF4096,PQ32\".");
            default:
                IVectorIndex probe;
                try
                {
                    probe = IndexFactory.Create(dimension, indexKind, metric);
                }
                catch (ArgumentException e)
                {
                    throw new NotSupportedException(
                        $"The index kind '{indexKind}' is neither one of the abstraction's IndexKind values (Flat, Hnsw, IvfFlat, QuantizedFlat, Dynamic) nor a valid DeepRetrieval index description for {dimension} dimensions and {metric}: {e.Message}", e);
                }
                plan = new IndexPlan(indexKind, indexKind, dimension, metric, !probe.IsTrained, parameters);
                break;
        }
        if (searchParameters is not null)
            foreach (var (name, value) in searchParameters)
                parameters[name] = value;
        // Build the target once so that a bad parameter fails when the collection is defined, not at the first search.
        if (plan.Description != AutomaticIvf || searchParameters is { Count: > 0 })
            plan.ApplySearchParameters(plan.Description == AutomaticIvf ? IndexFactory.Create(dimension, "IVF1,Flat", metric) : IndexFactory.Create(dimension, plan.Description, metric), validate: true);
        return plan;
    }

    /// <summary>The exact index a column uses before its target is trained (or for good, when no promotion is needed and the kind is Flat).</summary>
    public IVectorIndex CreateStaging() => new FlatIndex(_dimension, _metric);

    /// <summary>Creates the target index, untrained, for a column holding <paramref name="vectorCount"/> vectors.</summary>
    /// <param name="vectorCount">Vectors it will be trained on (chooses the IVF list count for <c>IndexKind.IvfFlat</c>).</param>
    public IVectorIndex CreateTarget(long vectorCount)
    {
        IVectorIndex index;
        if (Description == AutomaticIvf)
        {
            int lists = AutomaticListCount(vectorCount);
            index = IndexFactory.Create(_dimension, $"IVF{lists},Flat", _metric);
            if (!_searchParameters.ContainsKey("nprobe"))
                index.SetSearchParameter("nprobe", Math.Max(1, (int)Math.Round(Math.Sqrt(lists))));
        }
        else
        {
            index = IndexFactory.Create(_dimension, Description, _metric);
        }
        ApplySearchParameters(index, validate: false);
        return index;
    }

    /// <summary>Sets the plan's search parameters on an index of the target kind (a loaded one, say).</summary>
    /// <param name="index">The index.</param>
    public void ApplySearchParameters(IVectorIndex index) => ApplySearchParameters(index, validate: false);

    /// <summary>The IVF list count for N training vectors: the power of two at or below min(4√N, N/39), at least 1.</summary>
    /// <param name="vectorCount">N.</param>
    public static int AutomaticListCount(long vectorCount)
    {
        double limit = Math.Min(4 * Math.Sqrt(vectorCount), vectorCount / 39.0);
        int lists = 1;
        while (lists * 2 <= limit && lists < (1 << 20)) lists *= 2;
        return lists;
    }

    private void ApplySearchParameters(IVectorIndex index, bool validate)
    {
        if (index.Kind == FlatIndex.KindName && Description != FlatIndex.KindName) return; // the staging index has no knobs
        foreach (var (name, value) in _searchParameters)
        {
            try
            {
                index.SetSearchParameter(name, value);
            }
            catch (ArgumentException e) when (validate)
            {
                throw new NotSupportedException($"Search parameter {name} = {value} does not apply to index kind '{IndexKind}' ({Description}): {e.Message}", e);
            }
        }
    }
}
