using DeepRetrieval.Aggregation;

namespace DeepRetrieval.Fuzz.Targets;

/// <summary>
/// The aggregation files (visual vocabulary, inverted file, Gaussian mixture, ASMK index), which share the index container:
/// the checksum is re-computed after each mutation and every loader sees every input.
/// </summary>
internal sealed class AggregationTarget : FuzzTarget
{
    private const int Dimension = 4;

    public override string Name => "aggregation";

    public override string Description => "VisualVocabulary, InvertedFile, GaussianMixture and AsmkIndex Load (checksum repaired)";

    public override IReadOnlyList<(string Name, byte[] Bytes)> CreateSeeds()
    {
        float[] descriptors = SeedData.Vectors(40, Dimension, 8);
        var vocabulary = VisualVocabulary.Train(descriptors, Dimension, 4, new Clustering.KMeansOptions { Seed = 1 });
        var inverted = new InvertedFile(vocabulary.Size);
        inverted.Add(1, [0, 1, 1, 3]);
        inverted.Add(2, [2, 2, 0]);
        var mixture = GaussianMixture.Train(descriptors, Dimension, new GaussianMixtureOptions { Components = 2, KMeans = new Clustering.KMeansOptions { Seed = 2 } });
        var asmk = new AsmkIndex(vocabulary);
        asmk.Add(1, descriptors.AsSpan(0, 8 * Dimension));
        asmk.Add(2, descriptors.AsSpan(8 * Dimension, 8 * Dimension));
        return
        [
            ("vocabulary.drix", SeedData.ToBytes(vocabulary.Save)),
            ("inverted.drix", SeedData.ToBytes(inverted.Save)),
            ("mixture.drix", SeedData.ToBytes(mixture.Save)),
            ("asmk.drix", SeedData.ToBytes(asmk.Save)),
        ];
    }

    public override byte[] Repair(byte[] input) => Integrity.RepairIndexContainer(input);

    public override void Run(byte[] input)
    {
        LoadWithAny(
            () => VisualVocabulary.Load(new MemoryStream(input, writable: false)),
            () => InvertedFile.Load(new MemoryStream(input, writable: false)),
            () => GaussianMixture.Load(new MemoryStream(input, writable: false)),
            () => AsmkIndex.Load(new MemoryStream(input, writable: false)));
    }
}
