using DeepRetrieval.Aggregation;
using DeepRetrieval.Imaging;
using DeepRetrieval.Imaging.Features;
using DeepRetrieval.Imaging.Processing;

namespace DeepRetrieval.Samples.CopyDetection.Methods;

/// <summary>
/// The shared front of the classical methods: RootSIFT on the grey image, at most <see cref="Side"/> pixels on the longer
/// side and at most <see cref="MaxKeypoints"/> keypoints (the strongest by response), so that a run over every photo fits a
/// small machine. References keep their features until <see cref="ITrainedCopyDetector.Train"/> has learnt the model
/// from the distractors' descriptors.
/// </summary>
internal abstract class LocalFeatureDetector : ITrainedCopyDetector
{
    /// <summary>Longer side of the image SIFT sees, in pixels (the copies are stored at most this large).</summary>
    public const int Side = 640;

    /// <summary>Keypoints kept per image, by response.</summary>
    public const int MaxKeypoints = 1000;

    private readonly Sift _sift;
    private bool _trained;

    protected LocalFeatureDetector(int seed, int threads)
    {
        Seed = seed;
        Threads = threads;
        _sift = new Sift(new SiftOptions
        {
            Normalization = SiftDescriptorNormalization.RootSift,
            MaxKeypoints = MaxKeypoints,
            MaxDegreeOfParallelism = threads,
        });
    }

    public abstract string Name { get; }

    /// <summary>Seed of every random choice in training (k-means, EM).</summary>
    protected int Seed { get; }

    /// <summary>Threads for SIFT and training.</summary>
    protected int Threads { get; }

    /// <summary>The references' features, by id.</summary>
    protected List<LocalFeatures> References { get; } = [];

    public void AddReference(PixelImage image) => References.Add(Describe(image));

    public void Train(IReadOnlyList<int> trainingIds)
    {
        ArgumentNullException.ThrowIfNull(trainingIds);
        float[] descriptors = [.. trainingIds.SelectMany(id => References[id].Descriptors)];
        if (descriptors.Length == 0)
            throw new InvalidOperationException($"{Name} learns from the distractors' SIFT descriptors, but the {trainingIds.Count} distractors have none; add distractors (--distractors).");
        Fit(descriptors);
        _trained = true;
    }

    public void IndexReferences()
    {
        if (!_trained) throw new InvalidOperationException($"{Name} must be trained before it indexes the references.");
        for (int id = 0; id < References.Count; id++) Index(id, References[id]);
    }

    public float[] Score(PixelImage query, IReadOnlyDictionary<string, float[]> earlier)
    {
        if (!_trained) throw new InvalidOperationException($"{Name} must be trained and indexed before it scores a query.");
        return Score(Describe(query));
    }

    public abstract string Caption(float score);

    /// <summary>Learns the model from the pooled RootSIFT descriptors of the training references (n × 128, row major).</summary>
    protected abstract void Fit(float[] descriptors);

    /// <summary>Encodes and indexes one reference.</summary>
    protected abstract void Index(int id, LocalFeatures features);

    /// <summary>Scores every reference for the query's features.</summary>
    protected abstract float[] Score(LocalFeatures query);

    /// <summary>Scores from a short list: listed references get their score, the rest <paramref name="missing"/>.</summary>
    protected float[] Scatter(IEnumerable<ScoredImage> listed, float missing)
    {
        var scores = new float[References.Count];
        Array.Fill(scores, missing);
        foreach (ScoredImage hit in listed) scores[hit.Id] = hit.Score;
        return scores;
    }

    private LocalFeatures Describe(PixelImage image)
    {
        PixelImage grey = image.ConvertTo(PixelFormat.Gray8);
        if (grey.Width > Side || grey.Height > Side) grey = grey.ResizeToFit(Side, Side, ResizeFilter.Bilinear);
        return _sift.DetectAndCompute(grey.Pixels, grey.Width, grey.Height);
    }

    public virtual void Dispose()
    {
    }
}
