using DeepRetrieval.Indexes;

namespace DeepRetrieval.Fuzz.Targets;

/// <summary>
/// <see cref="IndexFile.LoadIndex(Stream, CancellationToken)"/> for every registered kind: one small seed per kind (and the
/// nested and transformed compositions), with the container checksum re-computed after each mutation.
/// </summary>
internal sealed class IndexFileTarget : FuzzTarget
{
    private const int Dimension = 8;

    // One description per registered kind, plus nestings (transform chains, refinement, IVF codecs).
    private static readonly string[] Descriptions =
    [
        "Flat", "HNSW8,Flat", "HNSW8,SQ8", "SQ8", "SQ4", "SQfp16", "PQ4x4", "IVF4,Flat", "IVF4,SQ8", "IVF4,PQ4x4", "LSH32",
        "KDTree", "RPForest3", "PCA4,Flat", "PCAW4,IVF2,Flat", "OPQ2,PQ2x4", "SQ4,RFlat", "PCA4,SQ8,RFlat",
    ];

    public override string Name => "index";

    public override string Description => "IndexFile.LoadIndex, every index kind (container checksum repaired)";

    public override IReadOnlyList<(string Name, byte[] Bytes)> CreateSeeds()
    {
        var seeds = new List<(string, byte[])>();
        float[] vectors = SeedData.Vectors(64, Dimension, 1);
        foreach (string description in Descriptions)
        {
            var index = IndexFactory.Create(Dimension, description);
            if (!index.IsTrained) index.Train(vectors);
            index.Add(vectors);
            seeds.Add(($"{description.Replace(',', '_')}.drix", SeedData.ToBytes(index.Save)));
        }
        var binary = IndexFactory.CreateBinary(64, "BFlat");
        binary.Add(SeedData.Codes(32, 8, 2));
        seeds.Add(("BFlat.drix", SeedData.ToBytes(binary.Save)));
        var itq = IndexFactory.Create(Dimension, "ITQ8,BFlat");
        itq.Train(vectors);
        itq.Add(vectors);
        seeds.Add(("ITQ8_BFlat.drix", SeedData.ToBytes(itq.Save)));
        return seeds;
    }

    public override byte[] Repair(byte[] input) => Integrity.RepairIndexContainer(input);

    public override void Run(byte[] input)
    {
        using var stream = new MemoryStream(input, writable: false);
        IndexFile.LoadIndex(stream);
    }
}
