using DeepRetrieval.OnnxRuntime.Preprocessing;
using DeepRetrieval.Pooling;
using DeepRetrieval.Torch.Onnx;
using DeepRetrieval.Torch.Pooling;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DeepRetrieval.OnnxRuntime.Tests.Torch;

/// <summary>
/// ML.NET's ResNet-18 ONNX file two ways on the same real photos and the same float input: through ONNX Runtime with this package's
/// embedder and core poolings, and imported into TorchSharp (DeepRetrieval.Torch's OnnxImporter) with the Torch package's pooling
/// layers.
/// </summary>
public sealed class ResNet18TorchAgreementTests(ResNet18TorchAgreementTests.SharedInput input, ITestOutputHelper output)
    : IClassFixture<ResNet18TorchAgreementTests.SharedInput>
{
    private const int Size = 224;
    private const double Tolerance = 1e-4;

    /// <summary>The photos normalised as ML.NET feeds the network, and the TorchSharp import's last feature maps for them (computed once).</summary>
    public sealed class SharedInput
    {
        public SharedInput()
        {
            string models = TestFiles.DnnImageModels;
            InputNormalization normalization = MlNetResNet18.Normalization(MlNetResNet18.PreprocessModelPath(models));
            IReadOnlyList<byte[]> photos = PhotoPixels.TestPhotos(Size);
            Count = photos.Count;
            int length = 3 * Size * Size;
            Planes = new float[Count * length];
            for (int i = 0; i < Count; i++)
                normalization.Normalize(photos[i], Size, Size, PixelFormat.Rgba32, Planes.AsSpan(i * length, length));
            using (NewDisposeScope())
            using (no_grad())
            {
                var imported = OnnxImporter.ImportResNet(OnnxModel.Load(MlNetResNet18.ModelPath(models)));
                Maps = imported.Backbone.call(tensor(Planes, [Count, 3, Size, Size])).data<float>().ToArray();
            }
        }

        public int Count { get; }

        public float[] Planes { get; }

        /// <summary>N × 512 × 7 × 7.</summary>
        public float[] Maps { get; }
    }

    public static TheoryData<string> Poolings => new() { "GeM(p=3)", "MAC", "SPoC", "RMAC", "average pool" };

    private static nn.Module<Tensor, Tensor> TorchLayer(string pooling) => pooling switch
    {
        "GeM(p=3)" => new GeM(3, learnable: false),
        "MAC" => new MAC(),
        "SPoC" => new SPoC(),
        "RMAC" => new RMAC(),
        _ => throw new ArgumentOutOfRangeException(nameof(pooling)),
    };

    [Theory]
    [MemberData(nameof(Poolings))]
    public void OnnxRuntimeEmbeddings_EqualTheTorchSharpImport_OnRealPhotos(string pooling)
    {
        string models = TestFiles.DnnImageModels;
        IFeatureMapPooling? corePooling = pooling == "average pool" ? null : FeatureMapPoolings.Parse(pooling);
        using var embedder = new OnnxEmbedder(MlNetResNet18.ModelPath(models),
            MlNetResNet18.Options(models, corePooling) with { L2Normalize = false, IntraOpThreads = 2 });
        float[] ours = embedder.Embed(input.Planes, input.Count);

        float[] reference;
        using (NewDisposeScope())
        using (no_grad())
        {
            Tensor maps = tensor(input.Maps, [input.Count, 512, 7, 7]);
            Tensor pooled = pooling == "average pool" ? maps.mean([2, 3]) : TorchLayer(pooling).call(maps);
            reference = pooled.data<float>().ToArray();
        }

        ours.Should().HaveSameCount(reference);
        double worst = ours.Zip(reference, (a, b) => Math.Abs((double)a - b)).Max();
        output.WriteLine($"{pooling}: max |ONNX Runtime − TorchSharp| over {input.Count} photos × 512 = {worst:E2}, largest value {reference.Max():F3}");
        worst.Should().BeLessThanOrEqualTo(Tolerance);
        reference.Select(Math.Abs).Max().Should().BeGreaterThan(0.05f, "the reference must not be trivially small");
    }
}
