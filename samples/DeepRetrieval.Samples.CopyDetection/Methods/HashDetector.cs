using DeepRetrieval.Imaging;
using DeepRetrieval.Imaging.Hashing;
using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Binary;

namespace DeepRetrieval.Samples.CopyDetection.Methods;

/// <summary>
/// A perceptual hash (imagehash's pHash or dHash, 64 bits) in a <see cref="BinaryFlatIndex"/>: the score of a reference is
/// minus its Hamming distance to the query's hash, so equal distances tie (and the evaluation breaks ties against us).
/// </summary>
internal sealed class HashDetector(string name, IPerceptualHasher hasher) : ICopyDetector
{
    private readonly BinaryFlatIndex _index = new(64);

    public string Name { get; } = name;

    public void AddReference(PixelImage image) => _index.Add(Code(image));

    public float[] Score(PixelImage query, IReadOnlyDictionary<string, float[]> earlier)
    {
        int count = (int)_index.Count;
        var ids = new long[count];
        var distances = new int[count];
        _index.Search(Code(query), count, ids, distances);
        var scores = new float[count];
        for (int i = 0; i < count; i++) scores[ids[i]] = -distances[i];
        return scores;
    }

    public string Caption(float score) => FormattableString.Invariant($"{-score:0} bits");

    private byte[] Code(PixelImage image)
    {
        PerceptualHash hash = hasher.Compute(image);
        if (hash.BitCount != _index.Bits)
            throw new InvalidOperationException($"{Name} gives {hash.BitCount}-bit hashes; the index holds {_index.Bits}-bit codes.");
        return hash.ToArray();
    }

    public void Dispose()
    {
    }
}
