using DeepRetrieval.Aggregation;
using DeepRetrieval.Clustering;
using DeepRetrieval.Imaging.Features;

namespace DeepRetrieval.Samples.CopyDetection.Methods;

/// <summary>
/// VLAD (Jégou et al.) over RootSIFT: residuals to a k-means vocabulary of <see cref="Words"/> words learnt from the
/// distractors, intra-normalised per word and L2-normalised (Arandjelović and Zisserman), 64 × 128 = 8,192 values.
/// </summary>
internal sealed class VladDetector(int seed, int threads) : GlobalVectorDetector(seed, threads)
{
    /// <summary>Vocabulary size.</summary>
    public const int Words = 64;

    private VladEncoder? _encoder;

    public override string Name => "SIFT VLAD";

    protected override int Length => _encoder!.Length;

    protected override void Fit(float[] descriptors)
    {
        VisualVocabulary vocabulary = VisualVocabulary.Train(descriptors, Sift.DescriptorLength, Words,
            new KMeansOptions { Seed = Seed, MaxDegreeOfParallelism = Threads });
        _encoder = new VladEncoder(vocabulary, new VladOptions { Power = 1, IntraNormalization = true, L2Normalization = true });
    }

    protected override float[] Encode(float[] descriptors) => _encoder!.Encode(descriptors);
}
