using DeepRetrieval.Aggregation;
using DeepRetrieval.Clustering;
using DeepRetrieval.Imaging.Features;

namespace DeepRetrieval.Samples.CopyDetection.Methods;

/// <summary>
/// ASMK* (Tolias et al.) over RootSIFT: per visual word of a k-means vocabulary of <see cref="Words"/> words learnt from the
/// distractors, the residuals aggregated and binarised, matched with the selectivity u³ (<see cref="AsmkIndex"/>). The
/// score is the normalised kernel in [0, 1] (1 for an identical descriptor set); references sharing no word score 0.
/// </summary>
internal sealed class AsmkDetector(int seed, int threads) : LocalFeatureDetector(seed, threads)
{
    /// <summary>Vocabulary size.</summary>
    public const int Words = 1024;

    private AsmkIndex? _index;

    public override string Name => "SIFT ASMK*";

    protected override void Fit(float[] descriptors)
    {
        VisualVocabulary vocabulary = VisualVocabulary.Train(descriptors, Sift.DescriptorLength, Words,
            new KMeansOptions { Seed = Seed, MaxDegreeOfParallelism = Threads });
        _index = new AsmkIndex(vocabulary, new AsmkOptions { Binarize = true, Alpha = 3, Threshold = 0 });
    }

    protected override void Index(int id, LocalFeatures features) => _index!.Add(id, features.Descriptors);

    protected override float[] Score(LocalFeatures query) => Scatter(_index!.Search(query.Descriptors, References.Count), 0);

    public override string Caption(float score) => FormattableString.Invariant($"asmk {score:0.00}");
}
