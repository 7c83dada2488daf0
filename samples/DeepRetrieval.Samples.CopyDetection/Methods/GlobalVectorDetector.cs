using DeepRetrieval.Imaging.Features;
using DeepRetrieval.Indexes;

namespace DeepRetrieval.Samples.CopyDetection.Methods;

/// <summary>
/// A classical method that aggregates an image's local descriptors into one L2-normalised vector (VLAD, Fisher vector),
/// kept in a <see cref="FlatIndex"/> searched by inner product: the score is the cosine similarity.
/// </summary>
internal abstract class GlobalVectorDetector(int seed, int threads) : LocalFeatureDetector(seed, threads)
{
    private FlatIndex? _index;

    /// <summary>Length of the aggregated vector (valid after training).</summary>
    protected abstract int Length { get; }

    /// <summary>Aggregates one image's RootSIFT descriptors (n × 128, row major; possibly none).</summary>
    protected abstract float[] Encode(float[] descriptors);

    protected override void Index(int id, LocalFeatures features)
    {
        _index ??= new FlatIndex(Length, Metric.InnerProduct);
        _index.Add(Encode(features.Descriptors));
    }

    protected override float[] Score(LocalFeatures query)
    {
        FlatIndex index = _index ?? throw new InvalidOperationException($"{Name} has no references indexed.");
        SearchResult hits = index.Search(Encode(query.Descriptors), (int)index.Count);
        ReadOnlySpan<long> ids = hits.IdsOf(0);
        ReadOnlySpan<float> similarities = hits.DistancesOf(0);
        var scores = new float[References.Count];
        for (int i = 0; i < ids.Length; i++) scores[ids[i]] = similarities[i];
        return scores;
    }

    public override string Caption(float score) => FormattableString.Invariant($"cos {score:0.00}");
}
