using DeepRetrieval.Data;

namespace DeepRetrieval.Fuzz.Targets;

/// <summary>The IDX image and label readers (MNIST, Fashion-MNIST), with seeds written by <see cref="IdxWriter"/>.</summary>
internal sealed class IdxTarget : FuzzTarget
{
    public override string Name => "idx";

    public override string Description => "IdxReader.ReadImages and ReadLabels";

    public override IReadOnlyList<(string Name, byte[] Bytes)> CreateSeeds()
    {
        byte[] pixels = SeedData.Codes(3 * 6 * 5, 1, 3);
        var images = new IdxImages(3, 6, 5, pixels);
        return
        [
            ("images.idx3-ubyte", SeedData.ToBytes(s => IdxWriter.WriteImages(s, images))),
            ("labels.idx1-ubyte", SeedData.ToBytes(s => IdxWriter.WriteLabels(s, [1, 7, 3]))),
            ("images.idx3-ubyte.gz", SeedData.ToBytes(s => IdxWriter.WriteImages(s, images, gzip: true))),
        ];
    }

    public override void Run(byte[] input)
    {
        LoadWithAny(
            () => IdxReader.ReadImages(new MemoryStream(input, writable: false), sourceName: "fuzz.idx"),
            () => IdxReader.ReadLabels(new MemoryStream(input, writable: false), sourceName: "fuzz.idx"));
    }
}

/// <summary>The fvecs, ivecs and bvecs readers (the ANN benchmark formats), with seeds written by <see cref="VecsWriter"/>.</summary>
internal sealed class VecsTarget : FuzzTarget
{
    public override string Name => "vecs";

    public override string Description => "VecsReader.ReadFvecs, ReadIvecs and ReadBvecs";

    public override IReadOnlyList<(string Name, byte[] Bytes)> CreateSeeds() =>
    [
        ("base.fvecs", SeedData.ToBytes(s => VecsWriter.WriteFvecs(s, SeedData.Vectors(5, 4, 4), 4))),
        ("groundtruth.ivecs", SeedData.ToBytes(s => VecsWriter.WriteIvecs(s, (ReadOnlySpan<int>)[1, 2, 3, 4, 5, 6], 3))),
        ("codes.bvecs", SeedData.ToBytes(s => VecsWriter.WriteBvecs(s, SeedData.Codes(4, 6, 5), 6))),
    ];

    public override void Run(byte[] input)
    {
        LoadWithAny(
            () => VecsReader.ReadFvecs(new MemoryStream(input, writable: false), sourceName: "fuzz.fvecs"),
            () => VecsReader.ReadIvecs(new MemoryStream(input, writable: false), maxRows: 2, sourceName: "fuzz.ivecs"),
            () => VecsReader.ReadBvecs(new MemoryStream(input, writable: false), sourceName: "fuzz.bvecs"));
    }
}

/// <summary>The .npy reader, with seeds written by <see cref="NpyWriter"/> (a matrix and a vector).</summary>
internal sealed class NpyTarget : FuzzTarget
{
    public override string Name => "npy";

    public override string Description => "NpyReader.Read";

    public override IReadOnlyList<(string Name, byte[] Bytes)> CreateSeeds() =>
    [
        ("matrix.npy", SeedData.ToBytes(s => NpyWriter.Write(s, SeedData.Vectors(3, 4, 6), 3, 4))),
        ("vector.npy", SeedData.ToBytes(s => NpyWriter.WriteVector(s, SeedData.Vectors(1, 5, 7)))),
    ];

    public override void Run(byte[] input) => NpyReader.Read(new MemoryStream(input, writable: false), sourceName: "fuzz.npy");
}
