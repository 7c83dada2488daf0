using DeepRetrieval.OnnxRuntime.Preprocessing;
using DeepRetrieval.Pooling;
using Microsoft.ML.OnnxRuntime;

namespace DeepRetrieval.OnnxRuntime.Tests;

/// <summary>ML.NET's ResNet-18 (Microsoft.ML.DnnImageFeaturizer.ResNet18) through the embedder, on real photos.</summary>
public class MlNetResNet18Tests
{
    private const int Size = 224;

    private static string Models => TestFiles.DnnImageModels;

    [Fact]
    public void Normalization_EqualsMlNetsPreprocessingModel_BitForBit_OnAPhoto()
    {
        // ML.NET feeds ResNetPreprocess.onnx what ExtractPixels() makes by default: R, G, B planes of 0–255 values.
        byte[] rgba = PhotoPixels.TestPhotos(Size)[0];
        int plane = Size * Size;
        var mlNetPlanes = new float[3 * plane];
        for (int i = 0; i < plane; i++)
            for (int c = 0; c < 3; c++) mlNetPlanes[c * plane + i] = rgba[i * 4 + c];
        using var preprocess = new InferenceSession(MlNetResNet18.PreprocessModelPath(Models));
        using var input = OrtValue.CreateTensorValueFromMemory(mlNetPlanes, [1, 3, Size, Size]);
        using var runOptions = new RunOptions();
        using var results = preprocess.Run(runOptions, ["OriginalInput"], [input], ["PreprocessedInput"]);
        float[] expected = results[0].GetTensorDataAsSpan<float>().ToArray();

        InputNormalization normalization = MlNetResNet18.Normalization(MlNetResNet18.PreprocessModelPath(Models));
        normalization.ChannelOrder.Should().Be(ChannelOrder.Bgr);
        normalization.Divisor.Should().Be(1f);
        (normalization.MeanImageHeight, normalization.MeanImageWidth).Should().Be((Size, Size));
        float[] ours = normalization.Normalize(rgba, Size, Size, PixelFormat.Rgba32);
        ours.Select(BitConverter.SingleToInt32Bits).Should().Equal(expected.Select(BitConverter.SingleToInt32Bits));
        // The mean image is Caffe's ImageNet mean: about 103 (B), 116 (G), 123 (R) on average.
        float[] mean = normalization.MeanImage.ToArray();
        mean.Take(plane).Average().Should().BeApproximately(103.06f, 0.01f);
        mean.Skip(2 * plane).Average().Should().BeApproximately(123.15f, 0.01f);
    }

    [Fact]
    public void Normalization_RejectsAModelThatIsNotThePreprocessing()
    {
        FluentActions.Invoking(() => MlNetResNet18.Normalization(TestFiles.Reference("tiny_cnn.onnx")))
            .Should().Throw<InvalidDataException>().WithMessage("*is not ML.NET's ResNet preprocessing model*");
        FluentActions.Invoking(() => MlNetResNet18.Normalization(TestFiles.Photos[0])).Should().Throw<InvalidDataException>();
    }

    [Fact]
    public void Options_PoolTheLastFeatureMap_OrUseTheNetworksAveragePool()
    {
        using (var pooled = new OnnxEmbedder(MlNetResNet18.ModelPath(Models), MlNetResNet18.Options(Models, new GemPooling(3f))))
        {
            pooled.OutputName.Should().Be("ReLU393_Output_0");
            pooled.OutputShape.Should().Equal(512L, 7L, 7L);
            pooled.FixedBatchSize.Should().Be(1);
            pooled.Dimension.Should().Be(512);
            pooled.Configuration.Should().Contain("pooling=GeM(p=3,eps=1E-06)").And.Contain("normalization=bgr/1 meanImage=3x224x224:sha256=");
        }
        using var average = new OnnxEmbedder(MlNetResNet18.ModelPath(Models), MlNetResNet18.Options(Models));
        average.OutputName.Should().Be("Pooling395_Output_0");
        average.OutputShape.Should().Equal(512L, 1L, 1L);
        average.Pooling.Should().BeNull("an N × C × 1 × 1 output is already one vector per image");
        average.Dimension.Should().Be(512);
    }

    private static float[] PhotoBatch(InputNormalization normalization, double cropFraction = 1.0)
    {
        IReadOnlyList<byte[]> photos = PhotoPixels.TestPhotos(Size, cropFraction);
        int length = 3 * Size * Size;
        var planes = new float[photos.Count * length];
        for (int i = 0; i < photos.Count; i++)
            normalization.Normalize(photos[i], Size, Size, PixelFormat.Rgba32, planes.AsSpan(i * length, length));
        return planes;
    }

    [Fact]
    public void Embed_RunsTheFixedBatchOfOneImageByImage_WithTheSameResults()
    {
        using var embedder = new OnnxEmbedder(MlNetResNet18.ModelPath(Models), MlNetResNet18.Options(Models, new GemPooling(3f)) with { IntraOpThreads = 2 });
        float[] planes = PhotoBatch(embedder.Normalization);
        float[] together = embedder.Embed(planes.AsSpan(0, 3 * 3 * Size * Size), 3);
        for (int i = 0; i < 3; i++)
            embedder.Embed(planes.AsSpan(i * 3 * Size * Size, 3 * Size * Size), 1).Should().Equal(together.AsSpan(i * 512, 512).ToArray());
    }

    [Fact]
    public void Embeddings_FindEachPhotosOriginal_FromACentreCropOfIt()
    {
        using var embedder = new OnnxEmbedder(MlNetResNet18.ModelPath(Models), MlNetResNet18.Options(Models, new GemPooling(3f)) with { IntraOpThreads = 2 });
        int count = TestFiles.Photos.Count;
        float[] originals = embedder.Embed(PhotoBatch(embedder.Normalization), count);
        float[] crops = embedder.Embed(PhotoBatch(embedder.Normalization, cropFraction: 0.7), count);
        for (int query = 0; query < count; query++)
        {
            float[] similarities = Enumerable.Range(0, count)
                .Select(i => System.Numerics.Tensors.TensorPrimitives.Dot<float>(crops.AsSpan(query * 512, 512), originals.AsSpan(i * 512, 512))).ToArray();
            Array.IndexOf(similarities, similarities.Max()).Should().Be(query, $"the 70 % crop of {Path.GetFileName(TestFiles.Photos[query])} should be nearest to its original");
        }
    }

    [Fact]
    public void Embed_StopsARunInProgress_WhenCancelled()
    {
        using var embedder = new OnnxEmbedder(MlNetResNet18.ModelPath(Models), MlNetResNet18.Options(Models) with { IntraOpThreads = 1 });
        var planes = new float[40 * 3 * Size * Size];
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(150));
        FluentActions.Invoking(() => embedder.Embed(planes, 40, cancellation.Token)).Should().Throw<OperationCanceledException>();
        embedder.Embed(planes.AsSpan(0, 3 * Size * Size), 1).Should().HaveCount(512, "the embedder stays usable after a cancelled run");
    }
}
