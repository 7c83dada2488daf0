using System.Text.Json;
using DeepRetrieval.Indexes;

namespace DeepRetrieval.Tests.Indexes;

/// <summary>
/// Writes one small index file per kind, and what each answers, with whatever library it is compiled against. The files in
/// <c>Reference/legacy-v1</c> were written by this code compiled against main at 4b4d91c (before the storage layers were
/// shared and the index types moved to family namespaces), by a throwaway console project that referenced main's
/// <c>src/DeepRetrieval</c> and called <see cref="Write"/>; <see cref="LegacyIndexFileTests"/> loads them with today's code.
/// Only the contract in <c>DeepRetrieval.Indexes</c> is used, so this compiles against both versions.
/// </summary>
internal static class LegacyIndexFiles
{
    internal const int Dimension = 16, Rows = 300, Queries = 6, K = 5, BinaryBits = 64;

    // (file stem, factory string, metric); every registered kind appears at least once.
    internal static readonly (string Name, string Factory, Metric Metric)[] Cases =
    [
        ("flat", "Flat", Metric.L2),
        ("hnsw", "HNSW8", Metric.L2),
        ("hnsw-cosine", "HNSW8", Metric.Cosine),
        ("hnsw-sq8", "HNSW8,SQ8", Metric.L2),
        ("hnsw-sq4-ip", "HNSW8,SQ4", Metric.InnerProduct),
        ("hnsw-fp16", "HNSW8,SQfp16", Metric.L2),
        ("sq8", "SQ8", Metric.L2),
        ("sq4-cosine", "SQ4", Metric.Cosine),
        ("sqfp16", "SQfp16", Metric.InnerProduct),
        ("pq4", "PQ4", Metric.L2),
        ("pq4x4-ip", "PQ4x4", Metric.InnerProduct),
        ("ivf-flat", "IVF8,Flat", Metric.L2),
        ("ivf-sq8", "IVF8,SQ8", Metric.Cosine),
        ("ivf-pq", "IVF8,PQ4", Metric.L2),
        ("ivf-hnsw-flat", "IVF8_HNSW4,Flat", Metric.L2),
        ("pca-flat", "PCA8,Flat", Metric.L2),
        ("opq-pq", "OPQ4,PQ4", Metric.L2),
        ("ivf-pq-rflat", "IVF8,PQ4,RFlat", Metric.L2),
        ("lsh", "LSH64", Metric.Hamming),
        ("bflat-floats", "BFlat", Metric.Hamming),
        ("itq-bflat", "ITQ16,BFlat", Metric.Hamming),
        ("kdtree", "KDTree", Metric.L2),
        ("rpforest", "RPForest4", Metric.L2),
    ];

    internal static float[] Data(int rows, int seed)
    {
        var random = new Random(seed);
        var data = new float[rows * Dimension];
        for (int i = 0; i < data.Length; i++) data[i] = (float)Math.Round(random.NextDouble() * 16 - 8, 2);
        return data;
    }

    internal static byte[] Codes(int rows, int seed)
    {
        var codes = new byte[rows * BinaryBits / 8];
        new Random(seed).NextBytes(codes);
        return codes;
    }

    /// <summary>Writes every case's file and <c>expected.json</c> (queries' results, a reconstructed row) into <paramref name="folder"/>.</summary>
    internal static void Write(string folder)
    {
        Directory.CreateDirectory(folder);
        float[] vectors = Data(Rows, 1), queries = Data(Queries, 2);
        var expected = new Dictionary<string, object>();
        foreach (var (name, factory, metric) in Cases)
        {
            IVectorIndex index = IndexFactory.Create(Dimension, factory, metric);
            if (!index.IsTrained) index.Train(vectors);
            var ids = new long[Rows];
            for (int i = 0; i < Rows; i++) ids[i] = 1000 + 3L * i;
            index.Add(vectors, ids);
            index.Remove([1000L, 1003L]);
            var found = new long[Queries * K];
            var distances = new float[Queries * K];
            index.Search(queries, K, found, distances);
            float[]? reconstructed = null;
            if (index.Reconstruction != ReconstructionKind.None)
            {
                reconstructed = new float[Dimension];
                index.Reconstruct(1006, reconstructed);
            }
            IndexFile.Save(index, Path.Combine(folder, name + ".dri"));
            expected[name] = new { factory, metric = metric.ToString(), kind = index.Kind, count = index.Count, ids = found, distances, reconstructed };
        }

        IBinaryIndex binary = IndexFactory.CreateBinary(BinaryBits, "BFlat");
        byte[] codes = Codes(Rows, 3), queryCodes = Codes(Queries, 4);
        binary.Add(codes);
        var binaryIds = new long[Queries * K];
        var binaryDistances = new int[Queries * K];
        binary.Search(queryCodes, K, binaryIds, binaryDistances);
        IndexFile.Save(binary, Path.Combine(folder, "bflat-codes.dri"));
        expected["bflat-codes"] = new { factory = "BFlat", kind = binary.Kind, count = binary.Count, ids = binaryIds, distances = binaryDistances };

        File.WriteAllText(Path.Combine(folder, "expected.json"), JsonSerializer.Serialize(expected, new JsonSerializerOptions { WriteIndented = false }));
    }
}
