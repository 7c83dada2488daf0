using System.Reflection;
using System.Text;
using DeepRetrieval.Imaging.Processing;
using DeepRetrieval.Tool.Embedding;
using DeepRetrieval.Tool.Gallery;
using DeepRetrieval.Torch.Data;
using DeepRetrieval.Torch.Extraction;
using DeepRetrieval.Torch.Models;
using DeepRetrieval.Torch.Weights;

namespace DeepRetrieval.Tool.Tests;

/// <summary>
/// <c>--model</c> with TorchSharp: a retrieval-model file and a backbone name with a local weights file or explicit random
/// weights, on real photos, with the tiny <c>small_cnn</c> backbone (grey 28 × 28 inputs, 128-d). libtorch is the restored
/// libtorch-cpu package, passed as a user would through <c>DEEPRETRIEVAL_LIBTORCH</c>. One class, so its tests (which set that
/// process-wide variable) never run in parallel with each other.
/// </summary>
public sealed class TorchModelTests : IDisposable
{
    private static readonly string LibTorchFolder =
        typeof(TorchModelTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "LibTorchFolder").Value!;

    private readonly string _photos = Photos.Folder(4);
    private readonly string _scratch = Photos.TempFolder("torch");

    public TorchModelTests()
    {
        Environment.SetEnvironmentVariable(LibTorch.EnvironmentVariable, LibTorchFolder);
        LibTorch.EnsureLoaded();
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(LibTorch.EnvironmentVariable, LibTorchFolder);
        Directory.Delete(_photos, recursive: true);
        Directory.Delete(_scratch, recursive: true);
    }

    private string Scratch(string name) => Path.Combine(_scratch, name);

    // A small_cnn retrieval model (GeM, no head, cosine), seeded, saved as RetrievalModel.Save writes it.
    private string SaveModel(string name, long seed)
    {
        using var model = new RetrievalModel(RetrievalModelConfig.For("small_cnn"), seed: seed);
        string path = Scratch(name);
        model.Save(path);
        return path;
    }

    // What DeepRetrieval.Torch computes in-process for the tool's preprocessing of small_cnn with --exact-decode: shorter side to
    // round(28 / 0.875) = 32, centre crop 28, grey, then the model (which normalises) and L2 normalisation.
    private static Dictionary<string, float[]> InProcess(RetrievalModel model, string folder)
    {
        string[] files = [.. Directory.GetFiles(folder).Order(StringComparer.Ordinal)];
        var options = new ImageFileSetOptions
        {
            Preprocessing = new ImagePreprocessing { ResizeMode = ImageResizeMode.ShorterSide, Size = 32, CenterCropSize = 28, Grayscale = true, Filter = ResizeFilter.Bilinear },
        };
        ExtractedFeatures features = new FeatureExtractor(model, new FeatureExtractorOptions { BatchSize = 16 }).Extract(ImageFileSet.FromFiles(files, options));
        features.Count.Should().Be(files.Length);
        return Enumerable.Range(0, features.Count).ToDictionary(i => Path.GetFileName(files[features.Ids[i]]), i => features.GetVector(i).ToArray());
    }

    private static void ShouldEqual(Dictionary<string, float[]> actual, Dictionary<string, float[]> expected)
    {
        actual.Keys.Should().BeEquivalentTo(expected.Keys);
        foreach ((string path, float[] vector) in expected)
            actual[path].Should().Equal(vector, (a, b) => Math.Abs(a - b) <= 1e-6f, $"the vector of {path}");
    }

    [Fact]
    public void Index_WithARetrievalModelFile_StoresFeatureExtractorsVectors_AndSearchFindsEachPhotoFirst()
    {
        string file = SaveModel("model.safetensors", seed: 1);
        string gallery = Scratch("gallery");

        ToolRunner.Result result = ToolRunner.Run("index", _photos, "--out", gallery, "--model", file, "--exact-decode");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Output.Should().Contain("4 images (4 new, 0 changed, 0 removed, 0 skipped), 128-d, HNSW32, model model.safetensors");
        GalleryManifest manifest = GalleryStore.ReadManifest(gallery);
        manifest.Model.Spec.Should().Be(file);
        manifest.Model.Weights.Should().BeNull();
        manifest.Model.Fingerprint.Should().MatchRegex("^[0-9a-f]{64}$");
        manifest.Preprocessing.Description.Should().Be("ShorterSide(32) CenterCrop(28) Bilinear grey draft=off flip=off scales=[1]");
        using (RetrievalModel model = RetrievalModel.Load(file))
            ShouldEqual(IndexCommandTests.VectorsByPath(gallery), InProcess(model, _photos));

        foreach (string photo in Directory.GetFiles(_photos))
        {
            ToolRunner.Result search = ToolRunner.Run("search", gallery, photo, "--k", "2");
            search.ExitCode.Should().Be(0, search.ToString());
            search.Output.Split('\n')[1].Should().MatchRegex(@"^\s+1\s+1\.0000\s+").And.EndWith(photo);
        }
        ToolRunner.Run("index", _photos, "--out", gallery, "--model", file, "--exact-decode").Output.Should().Contain("is up to date: 4 images");
    }

    [Fact]
    public void Index_WithABackboneNameAndALocalWeightsFile_EqualsTheSameNetworkSavedAsARetrievalModel()
    {
        string file = SaveModel("model.safetensors", seed: 2);
        string weights = Scratch("small_cnn.safetensors");
        using (RetrievalModel model = RetrievalModel.Load(file))
            SafeTensors.Save(weights, model.Backbone.state_dict());
        string byFile = Scratch("by-file"), byName = Scratch("by-name");
        ToolRunner.Run("index", _photos, "--out", byFile, "--model", file).ExitCode.Should().Be(0);

        ToolRunner.Result result = ToolRunner.Run("index", _photos, "--out", byName, "--model", "small_cnn", "--weights", weights);

        result.ExitCode.Should().Be(0, result.ToString());
        result.Output.Should().Contain("4 images (4 new, 0 changed, 0 removed, 0 skipped), 128-d, HNSW32, model small_cnn");
        GalleryManifest manifest = GalleryStore.ReadManifest(byName);
        manifest.Model.Spec.Should().Be("small_cnn");
        manifest.Model.Weights.Should().Be(weights);
        manifest.Model.Fingerprint.Should().Be(GalleryStore.ReadManifest(byFile).Model.Fingerprint, "same configuration and weights");
        ShouldEqual(IndexCommandTests.VectorsByPath(byName), IndexCommandTests.VectorsByPath(byFile));
        ToolRunner.Result search = ToolRunner.Run("search", byName, Photos.Get(0), "--k", "1");
        search.Output.Should().MatchRegex(@"1\s+1\.0000\s+.*astronaut\.png");
    }

    [Fact]
    public void Index_OfAModelThatDoesNotNormalise_StoresUnitVectors_ForCosineSearch()
    {
        string file = Scratch("inner-product.safetensors");
        using (var model = new RetrievalModel(RetrievalModelConfig.For("small_cnn") with { Metric = Metric.InnerProduct }, seed: 1))
            model.Save(file);
        string gallery = Scratch("gallery");

        ToolRunner.Run("index", _photos, "--out", gallery, "--model", file).ExitCode.Should().Be(0);

        IndexCommandTests.VectorsByPath(gallery).Values.Should().OnlyContain(v => Math.Abs(System.Numerics.Tensors.TensorPrimitives.Norm<float>(v) - 1) < 1e-5);
    }

    [Fact]
    public void Backbone_WithoutWeights_IsRefused_AndRandomWeights_OnlyWhenAskedFor_AreReproducible()
    {
        ToolRunner.Run("index", _photos, "--out", Scratch("g"), "--model", "small_cnn")
            .ShouldFailWithOneLine(1, "error: Backbone 'small_cnn' has no registered pretrained weights: pass a weights file with --weights <file.safetensors|.pth>, or --weights random *");
        ToolRunner.Run("index", _photos, "--out", Scratch("g"), "--model", "small_cnn", "--weights", Scratch("missing.safetensors"))
            .ShouldFailWithOneLine(1, "error: Weights file '*missing.safetensors' does not exist.");
        File.WriteAllText(Scratch("junk.pth"), "not a checkpoint");
        ToolRunner.Run("index", _photos, "--out", Scratch("g"), "--model", "small_cnn", "--weights", Scratch("junk.pth"))
            .ShouldFailWithOneLine(1, "error: The weights in '*junk.pth' do not fit backbone 'small_cnn': *");

        ToolRunner.Run("index", _photos, "--out", Scratch("r1"), "--model", "small_cnn", "--weights", "random").ExitCode.Should().Be(0);
        ToolRunner.Run("index", _photos, "--out", Scratch("r2"), "--model", "small_cnn", "--weights", "random").ExitCode.Should().Be(0);
        GalleryManifest manifest = GalleryStore.ReadManifest(Scratch("r1"));
        manifest.Model.Weights.Should().Be("random");
        manifest.Model.Fingerprint.Should().Be(GalleryStore.ReadManifest(Scratch("r2")).Model.Fingerprint, "random weights are seeded");
        ToolRunner.Run("search", Scratch("r1"), Photos.Get(1), "--k", "1").Output.Should().MatchRegex(@"1\s+1\.0000\s+.*coffee\.png");
    }

    [Fact]
    public void Index_InterruptedMidway_KeepsWhatItEmbedded_AndTheNextRunFinishes()
    {
        string photos = Photos.Folder(8);
        try
        {
            string gallery = Scratch("gallery");
            using var interrupt = new CancellationTokenSource();
            string[] model = ["--model", "small_cnn", "--weights", "random", "--batch-size", "1"];

            // Ctrl+C after the third image.
            ToolRunner.Result interrupted = ToolRunner.Run(interrupt.Token, (done, _) =>
            {
                if (done >= 3) interrupt.Cancel();
            }, ["index", photos, "--out", gallery, "--checkpoint-every", "2", .. model]);

            interrupted.ShouldFailWithOneLine(130, "error: Interrupted: embedded * of 8 images; the gallery holds * Run the same command again to finish.");
            GalleryManifest partial = GalleryStore.ReadManifest(gallery);
            partial.Images.Count.Should().BeInRange(3, 7);
            ToolRunner.Result resumed = ToolRunner.Run(["index", photos, "--out", gallery, .. model]);
            resumed.ExitCode.Should().Be(0, resumed.ToString());
            resumed.Output.Should().Contain($"8 images ({8 - partial.Images.Count} new, 0 changed, 0 removed, 0 skipped)");
        }
        finally
        {
            Directory.Delete(photos, recursive: true);
        }
    }

    [Fact]
    public void Index_SkipsAndReportsUnreadableFiles()
    {
        File.WriteAllText(Path.Combine(_photos, "broken.jpg"), "not a jpeg");
        string gallery = Scratch("gallery");

        ToolRunner.Result result = ToolRunner.Run("index", _photos, "--out", gallery, "--model", "small_cnn", "--weights", "random");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Output.Should().Contain("4 images (4 new, 0 changed, 0 removed, 1 skipped)");
        result.Error.Should().Contain("warning: skipped 'broken.jpg': ");
        GalleryStore.ReadManifest(gallery).Skipped.Should().ContainSingle().Which.Path.Should().Be("broken.jpg");
    }

    [Fact]
    public void DedupAndEval_RunTorchSharpModelsToo()
    {
        // A copy of a photo is its near-duplicate by any embedding; a random network is enough to find it.
        File.Copy(Photos.Get(0), Path.Combine(_photos, "astronaut-copy.png"));
        ToolRunner.Result dedup = ToolRunner.Run("dedup", _photos, "--method", "embedding", "--threshold", "0.9999", "--model", "small_cnn", "--weights", "random");
        dedup.ExitCode.Should().Be(0, dedup.ToString());
        dedup.Output.Should().Contain("group 1 (2 images):\n  astronaut-copy.png\n  astronaut.png");

        string labelled = Scratch("labelled");
        foreach ((string label, int photo) in new[] { ("people", 0), ("people", 3), ("things", 1), ("things", 2) })
        {
            Directory.CreateDirectory(Path.Combine(labelled, label));
            File.Copy(Photos.Get(photo), Path.Combine(labelled, label, Path.GetFileName(Photos.Paths[photo])));
        }
        string file = SaveModel("model.safetensors", seed: 1);
        ToolRunner.Result eval = ToolRunner.Run("eval", labelled, "--model", file, "--json");
        eval.ExitCode.Should().Be(0, eval.ToString());
        eval.Output.Should().Contain("\"model\": \"model.safetensors\"").And.Contain("\"dimension\": 128").And.Contain("\"images\": 4");
    }

    [Fact]
    public void WithoutLibTorch_TorchModelsFailWithOneLine_WhileOnnxModelsStillWork()
    {
        string file = SaveModel("model.safetensors", seed: 1);
        string gallery = Scratch("gallery");
        ToolRunner.Run("index", _photos, "--out", gallery, "--model", file).ExitCode.Should().Be(0);
        string empty = Directory.CreateDirectory(Scratch("no-libtorch")).FullName;
        Environment.SetEnvironmentVariable(LibTorch.EnvironmentVariable, empty);

        const string message = "error: DEEPRETRIEVAL_LIBTORCH='*no-libtorch' has no libc10.so, libtorch_cpu.so, libtorch.so: point it at the folder holding libtorch 2.10.0's libraries*";
        ToolRunner.Run("index", _photos, "--out", Scratch("g2"), "--model", file).ShouldFailWithOneLine(1, message);
        ToolRunner.Run("index", _photos, "--out", Scratch("g2"), "--model", "small_cnn", "--weights", "random").ShouldFailWithOneLine(1, message);
        ToolRunner.Run("search", gallery, Photos.Get(0)).ShouldFailWithOneLine(1, message);
        GalleryStore.IsGallery(Scratch("g2")).Should().BeFalse();
        ToolRunner.Run("index", _photos, "--out", Scratch("onnx"), "--model", Path.Combine(AppContext.BaseDirectory, "Models", "tiny_cnn_any_size.onnx")).ExitCode.Should().Be(0);
    }

    [Fact]
    public void AGalleryOfOneModelKind_RefusesAnother_AndARetrievalModelFileThatChanged()
    {
        string file = SaveModel("model.safetensors", seed: 1);
        string torchGallery = Scratch("torch"), onnxGallery = Scratch("onnx");
        string onnx = Path.Combine(AppContext.BaseDirectory, "Models", "tiny_cnn_any_size.onnx");
        ToolRunner.Run("index", _photos, "--out", torchGallery, "--model", file).ExitCode.Should().Be(0);
        ToolRunner.Run("index", _photos, "--out", onnxGallery, "--model", onnx).ExitCode.Should().Be(0);
        string manifest = File.ReadAllText(Path.Combine(torchGallery, "gallery.json"));

        ToolRunner.Run("index", _photos, "--out", torchGallery, "--model", onnx)
            .ShouldFailWithOneLine(1, "error: Gallery '*' was built with model model.safetensors (128-d, fingerprint *); this run uses tiny_cnn_any_size.onnx (16-d, *). Vectors of different models cannot be mixed*--model *model.safetensors).");
        ToolRunner.Run("index", _photos, "--out", onnxGallery, "--model", "small_cnn", "--weights", "random")
            .ShouldFailWithOneLine(1, "error: Gallery '*' was built with model tiny_cnn_any_size.onnx (16-d, *); this run uses small_cnn with weights random (128-d, *). Vectors of different models cannot be mixed*");
        ToolRunner.Run("index", _photos, "--out", torchGallery, "--model", "small_cnn", "--weights", "random")
            .ShouldFailWithOneLine(1, "error: Gallery '*' was built with model model.safetensors (128-d, *); this run uses small_cnn with weights random (128-d, *)*");

        // The file replaced by another network of the same shape: refused by fingerprint, gallery untouched.
        SaveModel("model.safetensors", seed: 7);
        ToolRunner.Run("index", _photos, "--out", torchGallery, "--model", file)
            .ShouldFailWithOneLine(1, "error: Gallery '*' was built with model model.safetensors (128-d, fingerprint *); this run uses model.safetensors (128-d, fingerprint *)*");
        ToolRunner.Run("search", torchGallery, Photos.Get(0))
            .ShouldFailWithOneLine(1, "error: The model '*model.safetensors' no longer matches gallery '*' (fingerprint *, the gallery's *): the model file changed since it was indexed. Re-index into a new folder.");
        File.ReadAllText(Path.Combine(torchGallery, "gallery.json")).Should().Be(manifest);
    }

    [Fact]
    public void ModelOptions_ThatDoNotFitTheModelKind_AreRefused()
    {
        string file = SaveModel("model.safetensors", seed: 1);
        string onnx = Path.Combine(AppContext.BaseDirectory, "Models", "tiny_cnn_any_size.onnx");
        string gallery = Scratch("g");
        ToolRunner.Run("index", _photos, "--out", gallery, "--model", onnx, "--weights", "random")
            .ShouldFailWithOneLine(1, "error: --weights applies to a backbone name given with --model (e.g. --model resnet50 --weights resnet50.safetensors); '*tiny_cnn_any_size.onnx' is a file that holds its own weights.");
        ToolRunner.Run("index", _photos, "--out", gallery, "--model", file, "--pooling", "mac")
            .ShouldFailWithOneLine(1, "error: '*model.safetensors' is a retrieval model whose pooling and head are saved with it; leave out --output and --pooling.");
        ToolRunner.Run("index", _photos, "--out", gallery, "--model", "small_cnn", "--weights", "random", "--output", "x")
            .ShouldFailWithOneLine(1, "error: --output applies to an ONNX file given with --model; backbone 'small_cnn' is pooled with --pooling (default gem).");
        ToolRunner.Run("index", _photos, "--out", gallery, "--model", "small_cnn", "--weights", "random", "--pooling", "avg_max_mix")
            .ShouldFailWithOneLine(1, "error: --pooling 'avg_max_mix': *");
        // A safetensors file that is not a retrieval model (e.g. a backbone's weights).
        byte[] header = Encoding.UTF8.GetBytes("{\"__metadata__\":{\"format\":\"pt\"}}");
        File.WriteAllBytes(Scratch("weights.safetensors"), [.. BitConverter.GetBytes((ulong)header.Length), .. header]);
        ToolRunner.Run("index", _photos, "--out", gallery, "--model", Scratch("weights.safetensors"))
            .ShouldFailWithOneLine(1, "error: '*weights.safetensors' is a safetensors file but not a DeepRetrieval retrieval model; if it holds a backbone's weights, pass the backbone's name with --model and this file with --weights.");
        File.WriteAllText(Scratch("resnet50.pth"), "a pickle");
        ToolRunner.Run("index", _photos, "--out", gallery, "--model", Scratch("resnet50.pth"))
            .ShouldFailWithOneLine(1, "error: '*resnet50.pth' looks like a PyTorch weights file, which holds no network: pass the backbone's name with --model and this file with --weights (e.g. --model resnet50 --weights resnet50.pth).");
        GalleryStore.IsGallery(gallery).Should().BeFalse();

        ToolRunner.Result mac = ToolRunner.Run("index", _photos, "--out", gallery, "--model", "small_cnn", "--weights", "random", "--pooling", "mac");
        mac.ExitCode.Should().Be(0, mac.ToString());
        GalleryStore.ReadManifest(gallery).Model.Pooling.Should().Be("mac");
    }
}
