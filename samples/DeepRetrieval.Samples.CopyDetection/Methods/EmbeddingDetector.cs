using DeepRetrieval.Imaging;
using DeepRetrieval.Imaging.Processing;
using DeepRetrieval.Indexes;
using DeepRetrieval.OnnxRuntime;
using DeepRetrieval.Pooling;
using OnnxPixelFormat = DeepRetrieval.OnnxRuntime.Preprocessing.PixelFormat;

namespace DeepRetrieval.Samples.CopyDetection.Methods;

/// <summary>
/// ML.NET's ImageNet ResNet-18 (the ONNX file of <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c>) through
/// <see cref="OnnxEmbedder"/>: the whole image squeezed to 224 × 224 (PIL-exact antialiased bilinear; no centre crop, which
/// would cut away what a crop copy kept), the last 512 × 7 × 7 feature map GeM-pooled (p = 3) and L2-normalised, in a
/// <see cref="FlatIndex"/> searched by inner product (cosine similarity, the score).
/// </summary>
internal sealed class EmbeddingDetector : ICopyDetector
{
    public const string MethodName = "ResNet-18 GeM";
    private const int Side = 224;

    private readonly OnnxEmbedder _embedder;
    private readonly FlatIndex _index;

    public EmbeddingDetector(string dnnImageModelsDirectory, int threads)
    {
        _embedder = new OnnxEmbedder(MlNetResNet18.ModelPath(dnnImageModelsDirectory),
            MlNetResNet18.Options(dnnImageModelsDirectory, new GemPooling(p: 3f)) with { IntraOpThreads = threads });
        _index = new FlatIndex(_embedder.Dimension, Metric.InnerProduct);
    }

    public string Name => MethodName;

    /// <summary>The model's fingerprint (file hash, preprocessing, pooling) for the report.</summary>
    public string Fingerprint => _embedder.Fingerprint;

    public void AddReference(PixelImage image) => _index.Add(Embed(image));

    public float[] Score(PixelImage query, IReadOnlyDictionary<string, float[]> earlier)
    {
        int count = (int)_index.Count;
        var ids = new long[count];
        var similarities = new float[count];
        _index.Search(Embed(query), count, ids, similarities);
        var scores = new float[count];
        for (int i = 0; i < count; i++) scores[ids[i]] = similarities[i];
        return scores;
    }

    public string Caption(float score) => FormattableString.Invariant($"cos {score:0.00}");

    private float[] Embed(PixelImage image)
    {
        PixelImage input = image.Resize(Side, Side, ResizeFilter.Bilinear);
        return _embedder.EmbedPixels(input.Pixels, Side, Side, OnnxPixelFormat.Rgb24);
    }

    public void Dispose() => _embedder.Dispose();
}
