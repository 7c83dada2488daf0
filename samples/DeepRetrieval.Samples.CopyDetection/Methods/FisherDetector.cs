using DeepRetrieval.Aggregation;
using DeepRetrieval.Clustering;
using DeepRetrieval.Imaging.Features;
using DeepRetrieval.Transforms;

namespace DeepRetrieval.Samples.CopyDetection.Methods;

/// <summary>
/// The improved Fisher vector (Perronnin et al.) over RootSIFT reduced to <see cref="Dimension"/> dimensions by PCA: a
/// diagonal Gaussian mixture of <see cref="Components"/> components fitted by seeded EM, PCA and mixture both learnt from
/// the distractors; gradients with respect to means and variances, signed square root, L2 (2 × 64 × 64 = 8,192 values).
/// </summary>
internal sealed class FisherDetector(int seed, int threads) : GlobalVectorDetector(seed, threads)
{
    /// <summary>Dimensions kept by the PCA.</summary>
    public const int Dimension = 64;

    /// <summary>Gaussians in the mixture.</summary>
    public const int Components = 64;

    private PcaTransform? _pca;
    private FisherVectorEncoder? _encoder;

    public override string Name => "SIFT Fisher vector";

    protected override int Length => _encoder!.Length;

    protected override void Fit(float[] descriptors)
    {
        _pca = new PcaTransform(Sift.DescriptorLength, Dimension);
        _pca.Train(descriptors);
        GaussianMixture mixture = GaussianMixture.Train(Reduce(descriptors), Dimension, new GaussianMixtureOptions
        {
            Components = Components,
            MaxIterations = 50,
            KMeans = new KMeansOptions { Seed = Seed, MaxDegreeOfParallelism = Threads },
            MaxDegreeOfParallelism = Threads,
        });
        _encoder = new FisherVectorEncoder(mixture, new FisherVectorOptions { Means = true, Variances = true, Power = 0.5, L2Normalization = true });
    }

    protected override float[] Encode(float[] descriptors) => _encoder!.Encode(Reduce(descriptors));

    private float[] Reduce(float[] descriptors)
    {
        var reduced = new float[descriptors.Length / Sift.DescriptorLength * Dimension];
        _pca!.Apply(descriptors, reduced);
        return reduced;
    }
}
