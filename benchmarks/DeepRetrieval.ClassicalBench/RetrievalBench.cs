using System.Diagnostics;
using DeepRetrieval.Aggregation;
using DeepRetrieval.Clustering;
using DeepRetrieval.Evaluation;
using DeepRetrieval.Imaging.Features;
using DeepRetrieval.Indexes;
using DeepRetrieval.Transforms;

namespace DeepRetrieval.ClassicalBench;

/// <summary>
/// Pair-matching retrieval: every synthetic view is a query whose one relevant image is its source photo, searched among
/// the database photos and the distractors. Vocabularies, PCA and the mixture are trained on the distractors' RootSIFT
/// descriptors only, so nothing is learned from the database or the queries. Reports mAP, Recall@1/@5 per method and the
/// time per image to describe, to encode and to query (one thread).
/// </summary>
internal static class RetrievalBench
{
    private const int BowWords = 1024, VladWords = 64, MixtureComponents = 64, PcaDimension = 64, ShortList = 10;

    public static void Run(BenchData data)
    {
        var sift = new Sift(new SiftOptions { Normalization = SiftDescriptorNormalization.RootSift, MaxDegreeOfParallelism = 1 });
        string[] gallery = [.. data.Database, .. data.Distractors];
        string[] all = [.. gallery, .. data.Queries.Select(q => q.Name)];
        var features = new Dictionary<string, LocalFeatures>();
        foreach (string name in all.Take(8))
        {
            BenchData.Image image = data.Read(name);
            sift.DetectAndCompute(image.Pixels, image.Width, image.Height); // JIT warm-up
        }
        double describeMs = Time(all, name =>
        {
            BenchData.Image image = data.Read(name);
            features[name] = sift.DetectAndCompute(image.Pixels, image.Width, image.Height);
        });
        double keypointsPerImage = features.Values.Average(f => f.Count);

        float[] training = data.Distractors.SelectMany(n => features[n].Descriptors).ToArray();
        Console.WriteLine($"## Pair-matching retrieval ({data.Queries.Length} queries, {data.Database.Length} photos + {data.Distractors.Length} distractors, one relevant image per query)");
        Console.WriteLine($"RootSIFT, {keypointsPerImage:F0} keypoints per image; SIFT {describeMs:F1} ms per image. Vocabularies, PCA and mixture trained on the distractors' {training.Length / 128} descriptors only, with seeds {string.Join(", ", Seeds)}.");
        Console.WriteLine("Times are process CPU milliseconds (all threads of this process), so other jobs on the machine do not inflate them.");
        var results = new List<(string Method, int Seed, Result Result)>();
        foreach (int seed in Seeds)
        {
            foreach (var (method, result) in Evaluate(data, gallery, features, training, seed))
                results.Add((method, seed, result));
        }
        Console.WriteLine("| method | mAP mean (range) | Recall@1 mean (range) | Recall@5 | R@1 rotation | R@1 perspective | R@1 ½ + photometric + JPEG | R@1 ⅓ oblique + blur + noise | encode ms/image | query ms |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var group in results.GroupBy(r => r.Method))
        {
            Result[] r = group.Select(g => g.Result).ToArray();
            string Range(Func<Result, double> f) => $"{r.Average(f):F3} ({r.Min(f):F3}–{r.Max(f):F3})";
            Console.WriteLine($"| {group.Key} | {Range(x => x.Map)} | {Range(x => x.RecallAt1)} | {r.Average(x => x.RecallAt5):F3} | " +
                              string.Join(" | ", Enumerable.Range(0, 4).Select(v => r.Average(x => x.RecallAt1ByView[v]).ToString("F3"))) +
                              $" | {r.Average(x => x.EncodeMs):F2} | {r.Average(x => x.QueryMs):F2} |");
        }
    }

    private static readonly int[] Seeds = [1, 2, 3];

    private sealed record Result(double Map, double RecallAt1, double RecallAt5, double[] RecallAt1ByView, double EncodeMs, double QueryMs);

    private static IEnumerable<(string Method, Result Result)> Evaluate(BenchData data, string[] gallery, Dictionary<string, LocalFeatures> features, float[] training, int seed)
    {
        var kmeans = new KMeansOptions { Seed = seed, MaxDegreeOfParallelism = 1 };
        VisualVocabulary bowWords = VisualVocabulary.Train(training, 128, BowWords, kmeans);
        VisualVocabulary vladWords = VisualVocabulary.Train(training, 128, VladWords, kmeans);
        var pca = new PcaTransform(128, PcaDimension);
        pca.Train(training);
        float[] reducedTraining = Project(pca, training);
        GaussianMixture mixture = GaussianMixture.Train(reducedTraining, PcaDimension,
            new GaussianMixtureOptions { Components = MixtureComponents, KMeans = kmeans, MaxDegreeOfParallelism = 1 });
        var one = new SearchOptions { MaxDegreeOfParallelism = 1 };

        // Bag of words with TF-IDF over an inverted file, then the same with spatial verification of the top 10.
        var file = new InvertedFile(BowWords);
        double bowEncode = Time(gallery, name => file.Add(Array.IndexOf(gallery, name), bowWords.Assign(features[name].Descriptors, one)));
        var bowLists = new Dictionary<string, ScoredImage[]>();
        double bowQuery = Time(data.Queries.Select(q => q.Name), name =>
            bowLists[name] = file.Search(bowWords.Assign(features[name].Descriptors, one), gallery.Length));
        yield return ("BoVW 1k words, TF-IDF, inverted file", Score(data, gallery, q => Scores(bowLists[q.Name], gallery.Length), bowEncode, bowQuery));

        var reranked = new Dictionary<string, float[]>();
        var verify = new SpatialRerankOptions { Matching = new MatchOptions { Search = one } };
        double svQuery = Time(data.Queries.Select(q => q.Name), name =>
        {
            ScoredImage[] list = bowLists[name];
            VerifiedCandidate[] top = SpatialReranker.Rerank(features[name], list.Take(ShortList).ToArray(), id => features[gallery[id]], verify);
            float[] scores = Scores(list, gallery.Length);
            // Re-ranked entries go above the rest of the list, in their new order.
            for (int r = 0; r < top.Length; r++) scores[top[r].Id] = 1000 - r;
            reranked[name] = scores;
        });
        yield return ($"BoVW + spatial verification of the top {ShortList} (affine RANSAC)", Score(data, gallery, q => reranked[q.Name], bowEncode, bowQuery + svQuery));

        // VLAD and Fisher vectors, compared by dot product (cosine of unit vectors) against every gallery image.
        var vlad = new VladEncoder(vladWords);
        yield return ("VLAD 64 words, SSR + L2 (8192-D)", Dense(data, gallery, features, f => vlad.Encode(f.Descriptors, one)));
        var intra = new VladEncoder(vladWords, new VladOptions { Power = 1, IntraNormalization = true });
        yield return ("VLAD 64 words, intra-normalised + L2 (8192-D)", Dense(data, gallery, features, f => intra.Encode(f.Descriptors, one)));
        var fisher = new FisherVectorEncoder(mixture);
        yield return ("Fisher vector 64 Gaussians on PCA-64, improved (8192-D)", Dense(data, gallery, features, f => fisher.Encode(Project(pca, f.Descriptors))));

        // ASMK* over the same 1k vocabulary.
        var asmk = new AsmkIndex(bowWords);
        double asmkEncode = Time(gallery, name => asmk.Add(Array.IndexOf(gallery, name), features[name].Descriptors));
        var asmkLists = new Dictionary<string, ScoredImage[]>();
        double asmkQuery = Time(data.Queries.Select(q => q.Name), name => asmkLists[name] = asmk.Search(features[name].Descriptors, gallery.Length));
        yield return ("ASMK* 1k words (binary residuals, α = 3)", Score(data, gallery, q => Scores(asmkLists[q.Name], gallery.Length), asmkEncode, asmkQuery));
    }

    private static Result Dense(BenchData data, string[] gallery, Dictionary<string, LocalFeatures> features, Func<LocalFeatures, float[]> encode)
    {
        var vectors = new Dictionary<string, float[]>();
        double encodeMs = Time(gallery, name => vectors[name] = encode(features[name]));
        var scores = new Dictionary<string, float[]>();
        double queryMs = Time(data.Queries.Select(q => q.Name), name =>
        {
            float[] query = encode(features[name]);
            scores[name] = gallery.Select(g => System.Numerics.Tensors.TensorPrimitives.Dot(query, vectors[g])).ToArray();
        });
        return Score(data, gallery, q => scores[q.Name], encodeMs, queryMs);
    }

    private static Result Score(BenchData data, string[] gallery, Func<BenchData.Query, float[]> scoresOf, double encodeMs, double queryMs)
    {
        var ap = new List<double>();
        var rank = new Dictionary<BenchData.Query, int>();
        foreach (BenchData.Query q in data.Queries)
        {
            float[] scores = scoresOf(q);
            bool[] relevant = gallery.Select(g => g == q.Database).ToArray();
            ap.Add(RetrievalMetrics.AveragePrecision(scores, relevant));
            int target = Array.IndexOf(gallery, q.Database);
            // Ties count against the query: every image scoring at least as high as the relevant one ranks before it.
            rank[q] = scores.Where((s, i) => i != target && s >= scores[target]).Count() + 1;
        }
        double Recall(int k, int? view = null)
        {
            var selected = rank.Where(p => view is null || p.Key.View == view).ToList();
            return selected.Count(p => p.Value <= k) / (double)selected.Count;
        }
        return new Result(ap.Average(), Recall(1), Recall(5), Enumerable.Range(0, 4).Select(v => Recall(1, v)).ToArray(), encodeMs, queryMs);
    }

    // Relevance scores for the whole gallery from a short list: listed images keep their score, the rest −∞.
    private static float[] Scores(ScoredImage[] list, int galleryCount)
    {
        float[] scores = Enumerable.Repeat(float.NegativeInfinity, galleryCount).ToArray();
        foreach (ScoredImage s in list) scores[s.Id] = s.Score;
        return scores;
    }

    private static float[] Project(PcaTransform pca, float[] descriptors)
    {
        var reduced = new float[descriptors.Length / pca.InputDimension * pca.OutputDimension];
        if (reduced.Length > 0) pca.Apply(descriptors, reduced);
        return reduced;
    }

    // Mean process CPU milliseconds per item of an action.
    private static double Time(IEnumerable<string> items, Action<string> action)
    {
        string[] list = items.ToArray();
        using Process process = Process.GetCurrentProcess();
        TimeSpan start = process.TotalProcessorTime;
        foreach (string item in list) action(item);
        process.Refresh();
        return (process.TotalProcessorTime - start).TotalMilliseconds / Math.Max(1, list.Length);
    }
}
