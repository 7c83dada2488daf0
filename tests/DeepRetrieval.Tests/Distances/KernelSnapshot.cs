using System.Globalization;
using System.Runtime.Intrinsics;
using System.Text;
using DeepRetrieval.Distances;
using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Codes;
using DeepRetrieval.Indexes.Hnsw;
using DeepRetrieval.Indexes.Ivf;
using DeepRetrieval.Quantization;

namespace DeepRetrieval.Tests.Distances;

/// <summary>
/// The results of every vectorised kernel of the core package on fixed inputs, one line each: a name, the tolerance the
/// comparison allows (0: bit-identical) and the values. Computed in process (with whatever SIMD the CPU has) and in a
/// child process with AVX-512, AVX2 or all hardware intrinsics switched off, then compared by <see cref="KernelFallbackTests"/>.
/// </summary>
/// <remarks>
/// Inputs are small integers wherever the kernel only adds and multiplies them: sums of such products are exact in float
/// whatever the order, so vector and scalar paths must agree to the bit, and so must everything built on them (graph
/// construction, batched exact search). Kernels that round (scalar quantization, k-means means) get a relative tolerance.
/// </remarks>
internal static class KernelSnapshot
{
    private const int D = 40; // not a multiple of 16 or 8: every kernel's tail runs too

    public static string Compute()
    {
        var text = new StringBuilder();
        void Line(string name, double tolerance, IEnumerable<double> values) =>
            text.Append(name).Append('\t').Append(tolerance.ToString("R", CultureInfo.InvariantCulture)).Append('\t')
                .AppendJoin(' ', values.Select(v => v.ToString("R", CultureInfo.InvariantCulture))).Append('\n');

        Line("isa", 0, [Vector512.IsHardwareAccelerated ? 1 : 0, Vector256.IsHardwareAccelerated ? 1 : 0, Vector128.IsHardwareAccelerated ? 1 : 0]);

        float[] data = Integers(600, D, seed: 1), queries = Integers(12, D, seed: 2);

        // One-row and four-row distance kernels at every length class (below, at and between the vector widths).
        foreach (int length in new[] { 1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 100, D })
        {
            ReadOnlySpan<float> x = data.AsSpan(0, length), y = data.AsSpan(D, length);
            Line($"l2/{length}", 0, [Distance.SquaredL2(x, y)]);
            Line($"ip/{length}", 0, [Distance.InnerProduct(x, y)]);
            Line($"cosine/{length}", 1e-6, [Distance.Cosine(x, y)]);
            Vector128<float> l2x4 = Distance.SquaredL2Unchecked4(ref data[0], ref data[D], ref data[2 * D], ref data[3 * D], ref data[4 * D], length);
            Vector128<float> ipx4 = Distance.InnerProductUnchecked4(ref data[0], ref data[D], ref data[2 * D], ref data[3 * D], ref data[4 * D], length);
            Line($"l2x4/{length}", 0, Enumerable.Range(0, 4).Select(i => (double)l2x4[i]));
            Line($"ipx4/{length}", 0, Enumerable.Range(0, 4).Select(i => (double)ipx4[i]));
        }

        byte[] bits = new byte[64 * 40];
        new Random(3).NextBytes(bits);
        foreach (int bytes in new[] { 1, 8, 13, 32, 40 })
            Line($"hamming/{bytes}", 0, [Distance.Hamming(bits.AsSpan(0, bytes), bits.AsSpan(40, bytes))]);

        // Exact search: one query at a time, and batched through the panel kernel.
        foreach (Metric metric in new[] { Metric.L2, Metric.InnerProduct })
        {
            var flat = new FlatIndex(D, metric);
            flat.Add(data);
            SearchResult result = flat.Search(queries, 10, new SearchOptions { MaxDegreeOfParallelism = 1 });
            Line($"flat-ids/{metric}", 0, result.Ids.Select(v => (double)v));
            Line($"flat-distances/{metric}", 0, result.Distances.Select(v => (double)v));
            var one = new long[10];
            var oneDistances = new float[10];
            flat.Search(queries.AsSpan(0, D), 10, one, oneDistances);
            Line($"flat-one/{metric}", 0, oneDistances.Select(v => (double)v));
        }

        // HNSW over floats: exact keys, so the same graph and the same answers whatever the SIMD width.
        var hnsw = new HnswIndex(D, Metric.L2, m: 8) { BuildThreads = 1 };
        hnsw.Add(data);
        SearchResult graph = hnsw.Search(queries, 10, new HnswSearchOptions { Ef = 32, MaxDegreeOfParallelism = 1 });
        Line("hnsw-ids", 0, graph.Ids.Select(v => (double)v));
        Line("hnsw-distances", 0, graph.Distances.Select(v => (double)v));

        // Scalar quantization: encoding rounds, so codes and distances may move by an ulp between paths.
        foreach (ScalarQuantizerType type in new[] { ScalarQuantizerType.SQ8, ScalarQuantizerType.SQ4, ScalarQuantizerType.Fp16 })
        {
            var quantizer = new ScalarQuantizer(D, type);
            quantizer.Train(data);
            var codes = new byte[10 * quantizer.CodeSize];
            quantizer.Encode(data.AsSpan(0, 10 * D), codes);
            Line($"sq-codes/{type}", 1, codes.Select(v => (double)v));
            var l2 = new double[10];
            var ip = new double[10];
            for (int i = 0; i < 10; i++)
            {
                l2[i] = quantizer.SquaredL2(queries.AsSpan(0, D), codes.AsSpan(i * quantizer.CodeSize, quantizer.CodeSize));
                ip[i] = quantizer.InnerProduct(queries.AsSpan(0, D), codes.AsSpan(i * quantizer.CodeSize, quantizer.CodeSize));
            }
            Line($"sq-l2/{type}", 1e-5, l2);
            Line($"sq-ip/{type}", 1e-5, ip);
        }

        // Product quantization with integer codebooks: tables and ADC sums are exact, 8-bit and 4-bit scans alike.
        foreach (int bitsPerCode in new[] { 8, 4 })
        {
            var pq = new ProductQuantizer(D, 10, bitsPerCode);
            pq.SetCentroids(Integers(10 * pq.CentroidsPerSubQuantizer, pq.SubDimension, seed: 4));
            var codes = new byte[37 * pq.CodeSize];
            pq.Encode(data.AsSpan(0, 37 * D), codes);
            Line($"pq-codes/{bitsPerCode}", 0, codes.Select(v => (double)v));
            foreach (Metric metric in new[] { Metric.L2, Metric.InnerProduct })
            {
                var table = new float[pq.DistanceTableSize];
                pq.ComputeDistanceTable(queries.AsSpan(0, D), table, metric);
                var distances = new float[37];
                pq.ComputeDistances(table, codes, distances);
                Line($"pq-table/{bitsPerCode}/{metric}", 0, table.Select(v => (double)v));
                Line($"pq-scan/{bitsPerCode}/{metric}", 0, distances.Select(v => (double)v));
            }
        }

        // Binary codes: the AVX-512 popcount scans (8- and 32-byte codes) against the portable one.
        foreach (int codeBits in new[] { 64, 256, 96 })
        {
            IBinaryIndex binary = IndexFactory.CreateBinary(codeBits, "BFlat");
            binary.Add(bits.AsSpan(0, 50 * binary.CodeSize));
            var ids = new long[3 * 5];
            var distances = new int[3 * 5];
            binary.Search(bits.AsSpan(50 * binary.CodeSize, 3 * binary.CodeSize), 5, ids, distances);
            Line($"bflat-ids/{codeBits}", 0, ids.Select(v => (double)v));
            Line($"bflat-distances/{codeBits}", 0, distances.Select(v => (double)v));
        }

        // Sign bits of floats (LSH-style packing) and k-means (centroid updates round; assignments are exact here).
        IVectorIndex signs = IndexFactory.Create(D, "BFlat");
        signs.Add(Centered(data));
        Line("sign-bits", 0, signs.Search(Centered(queries), 5, new SearchOptions { MaxDegreeOfParallelism = 1 }).Distances.Select(v => (double)v));
        var ivf = new IvfIndex(D, 8, Metric.L2, IvfEncoding.Flat);
        ivf.Train(data);
        ivf.Add(data);
        Line("ivf-ids", 0, ivf.Search(queries, 10, new IvfSearchOptions { Nprobe = 8, MaxDegreeOfParallelism = 1 }).Ids.Select(v => (double)v));
        return text.ToString();
    }

    // Small integers from −8 to 8: products and their sums stay far below 2^24, so float arithmetic on them is exact.
    private static float[] Integers(int rows, int dimension, int seed)
    {
        var random = new Random(seed);
        var values = new float[rows * dimension];
        for (int i = 0; i < values.Length; i++) values[i] = random.Next(-8, 9);
        return values;
    }

    private static float[] Centered(float[] values) => values.Select(v => v - 0.5f).ToArray();
}
