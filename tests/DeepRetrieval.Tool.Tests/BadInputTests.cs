using DeepRetrieval.Tool.Gallery;

namespace DeepRetrieval.Tool.Tests;

/// <summary>Every bad input gets one line on stderr and a non-zero exit code, never a stack trace.</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly string _photos = Photos.Folder(2);
    private readonly string _scratch = Photos.TempFolder("scratch");

    public void Dispose()
    {
        Directory.Delete(_photos, recursive: true);
        Directory.Delete(_scratch, recursive: true);
    }

    private string Scratch(string name) => Path.Combine(_scratch, name);

    private static string Model(string name) => Path.Combine(AppContext.BaseDirectory, "Models", name);

    [Fact]
    public void Index_OfAMissingFolder_OrAFile_OrAnEmptyFolder_Fails()
    {
        ToolRunner.Run("index", Scratch("missing"), "--out", Scratch("g")).ShouldFailWithOneLine(1, "error: Folder '*missing' does not exist.");
        ToolRunner.Run("index", Photos.Get(0), "--out", Scratch("g")).ShouldFailWithOneLine(1, "error: '*astronaut.png' is a file; give a folder of images.");
        string empty = Directory.CreateDirectory(Scratch("empty")).FullName;
        File.WriteAllText(Path.Combine(empty, "notes.txt"), "no images here");
        ToolRunner.Run("index", empty, "--out", Scratch("g")).ShouldFailWithOneLine(1, "error: No images in '*empty' (looked for .jpg, .jpeg, .png, .webp, .bmp, .gif, in sub-folders too).");
        Directory.Exists(Scratch("g")).Should().BeFalse("nothing is written for a failed run");
    }

    [Fact]
    public void Index_OfAFolderWhoseImagesAreAllUnreadable_Fails()
    {
        string broken = Directory.CreateDirectory(Scratch("broken")).FullName;
        File.WriteAllText(Path.Combine(broken, "a.jpg"), "not a jpeg");
        File.WriteAllBytes(Path.Combine(broken, "b.png"), []);
        ToolRunner.Result result = ToolRunner.Run("index", broken, "--out", Scratch("g"));
        result.ExitCode.Should().Be(1);
        result.Error.Should().Contain("error: None of the 2 image files in").And.NotContain("   at ");
        GalleryStore.IsGallery(Scratch("g")).Should().BeFalse();
    }

    [Fact]
    public void Index_RefusesAnOutFolderThatIsNotAGallery_OrInsideTheIndexedFolder()
    {
        string other = Directory.CreateDirectory(Scratch("documents")).FullName;
        File.WriteAllText(Path.Combine(other, "thesis.txt"), "precious");
        ToolRunner.Run("index", _photos, "--out", other).ShouldFailWithOneLine(1, "error: --out '*documents' is a folder that is not a gallery and not empty; choose a new or empty folder.");
        File.ReadAllText(Path.Combine(other, "thesis.txt")).Should().Be("precious");
        ToolRunner.Run("index", _photos, "--out", Path.Combine(_photos, "gallery")).ShouldFailWithOneLine(1, "error: --out '*gallery' is inside the indexed folder; put the gallery elsewhere.");
    }

    [Fact]
    public void Model_ThatIsMissing_AnUnknownName_NotOnnx_AnImage_OrNotAnImageModel_IsRefused()
    {
        string gallery = Scratch("g");
        ToolRunner.Run("index", _photos, "--out", gallery, "--model", Scratch("nope.onnx")).ShouldFailWithOneLine(1, "error: Model file '*nope.onnx' does not exist.");
        ToolRunner.Run("index", _photos, "--out", gallery, "--model", "resnet5O")
            .ShouldFailWithOneLine(1, "error: --model 'resnet5O' is neither a file nor a known backbone; did you mean resnet50, *? Known backbones: *efficientnet_b0*vit_small_patch16_224*");
        File.WriteAllText(Scratch("garbage.onnx"), "this is not a protobuf");
        ToolRunner.Run("index", _photos, "--out", gallery, "--model", Scratch("garbage.onnx")).ShouldFailWithOneLine(1, "error: '*garbage.onnx' is not an ONNX model the tool can load: *");
        ToolRunner.Run("index", _photos, "--out", gallery, "--model", Photos.Get(3)).ShouldFailWithOneLine(1, "error: '*rocket.jpg' is not an ONNX model the tool can load: *");
        ToolRunner.Run("index", _photos, "--out", gallery, "--model", Model("tiny_grey_cnn.onnx"))
            .ShouldFailWithOneLine(1, "error: '*tiny_grey_cnn.onnx' is not an image model the tool runs (*): *1-channel images*");
        ToolRunner.Run("index", _photos, "--out", gallery, "--model", _scratch).ShouldFailWithOneLine(1, "error: --model '*' is a folder; give an .onnx or retrieval-model file, or a backbone name*");
        GalleryStore.IsGallery(gallery).Should().BeFalse();
    }

    [Fact]
    public void Index_IntoAGalleryOfAnotherModel_IsRefused_AndLeavesItUntouched()
    {
        string gallery = Scratch("g");
        ToolRunner.Run("index", _photos, "--out", gallery, "--model", Model("tiny_cnn_any_size.onnx")).ExitCode.Should().Be(0);
        string manifest = File.ReadAllText(Path.Combine(gallery, "gallery.json"));

        ToolRunner.Run("index", _photos, "--out", gallery)
            .ShouldFailWithOneLine(1, "error: Gallery '*' was built with model tiny_cnn_any_size.onnx (16-d, fingerprint *); this run uses resnet18 (512-d, fingerprint *). Vectors of different models cannot be mixed: index into a new --out folder, or pass the gallery's model (--model *tiny_cnn_any_size.onnx).");
        ToolRunner.Run("index", _photos, "--out", gallery, "--model", Model("tiny_cnn_any_size.onnx"), "--flip")
            .ShouldFailWithOneLine(1, "error: Gallery '*' was built with preprocessing 'CenterCrop(1) Bilinear draft=on flip=off scales=[1]'; this run uses '*flip=on*'*");
        File.ReadAllText(Path.Combine(gallery, "gallery.json")).Should().Be(manifest);
        ToolRunner.Run("index", Photos.Folder(1), "--out", gallery, "--model", Model("tiny_cnn_any_size.onnx"))
            .ShouldFailWithOneLine(1, "error: Gallery '*' indexes '*', not '*'; use another --out folder.");
    }

    [Fact]
    public void Search_OfAGalleryWhoseModelChanged_OrWhoseIndexHasAnotherDimension_IsRefused()
    {
        string gallery = Scratch("g");
        string model = Scratch("model.onnx");
        File.Copy(Model("tiny_cnn_any_size.onnx"), model);
        ToolRunner.Run("index", _photos, "--out", gallery, "--model", model).ExitCode.Should().Be(0);
        ToolRunner.Run("search", gallery, Photos.Get(0)).ExitCode.Should().Be(0);

        // Another index dimension under the manifest's name.
        GalleryManifest manifest = GalleryStore.ReadManifest(gallery);
        var other = new DeepRetrieval.Indexes.FlatIndex(8, Metric.InnerProduct);
        DeepRetrieval.Indexes.IndexFile.Save(other, Path.Combine(gallery, manifest.IndexFile));
        ToolRunner.Run("search", gallery, Photos.Get(0)).ShouldFailWithOneLine(1, "error: Gallery '*': its index holds 8-d vectors but its model makes 16-d ones; re-index into a new folder.");

        // The model file replaced by another network.
        File.Copy(Model("tiny_cnn.onnx"), model, overwrite: true);
        ToolRunner.Run("search", gallery, Photos.Get(0)).ShouldFailWithOneLine(1, "error: The model '*model.onnx' no longer matches gallery '*' (fingerprint *, the gallery's *): the model file changed since it was indexed. Re-index into a new folder.");
        File.Delete(model);
        ToolRunner.Run("search", gallery, Photos.Get(0)).ShouldFailWithOneLine(1, "error: Model file '*model.onnx' does not exist.");
    }

    [Fact]
    public void Search_OfANonGallery_ACorruptManifest_OrABadQuery_Fails()
    {
        ToolRunner.Run("search", Scratch("none"), Photos.Get(0)).ShouldFailWithOneLine(1, "error: Gallery '*none' does not exist; build one with: deepretrieval index <folder> --out *");
        ToolRunner.Run("search", _photos, Photos.Get(0)).ShouldFailWithOneLine(1, "error: '*' is not a gallery (no gallery.json); build one with*");
        string gallery = Scratch("g");
        ToolRunner.Run("index", _photos, "--out", gallery, "--model", Model("tiny_cnn_any_size.onnx")).ExitCode.Should().Be(0);
        ToolRunner.Run("search", gallery, Scratch("missing.jpg")).ShouldFailWithOneLine(1, "error: Query image '*missing.jpg' does not exist.");
        File.WriteAllText(Scratch("fake.jpg"), "not a jpeg");
        ToolRunner.Run("search", gallery, Scratch("fake.jpg")).ShouldFailWithOneLine(1, "error: Cannot read query image '*fake.jpg': *");
        ToolRunner.Run("search", gallery, Photos.Get(0), "--k", "0").ShouldFailWithOneLine(1, "error: --k must be at least 1; got 0.");
        ToolRunner.Run("search", gallery, Photos.Get(0), "--grid", Scratch("no/such/folder/grid.png")).ShouldFailWithOneLine(1, "error: --grid '*': folder '*folder' does not exist.");

        File.WriteAllText(Path.Combine(gallery, "gallery.json"), "{ \"format\": \"deepretrieval-gallery/1\", \"root\": 5");
        ToolRunner.Run("search", gallery, Photos.Get(0)).ShouldFailWithOneLine(1, "error: Gallery '*': gallery.json is unreadable (*).");
    }

    [Fact]
    public void CommandLine_Errors_ExitWithTwo_AndDedupAndEvalCheckTheirInput()
    {
        ToolRunner.Result missingOut = ToolRunner.Run("index", _photos);
        missingOut.ExitCode.Should().Be(2);
        missingOut.Error.Should().Contain("error: Option '--out' is required.").And.NotContain("   at ");
        ToolRunner.Run("frobnicate").ExitCode.Should().Be(2);
        ToolRunner.Run("search", "--k", "abc", "g", "x.jpg").ExitCode.Should().Be(2);

        ToolRunner.Run("dedup", _photos, "--method", "md5").ShouldFailWithOneLine(1, "error: --method 'md5' is not one of phash, dhash, embedding.");
        ToolRunner.Run("dedup", _photos, "--threshold", "2.5").ShouldFailWithOneLine(1, "error: --threshold for phash is a whole number of bits from 0 to 64; got 2.5.");
        ToolRunner.Run("dedup", _photos, "--method", "embedding", "--threshold", "3").ShouldFailWithOneLine(1, "error: --threshold for embeddings is a cosine similarity in (-1, 1]; got 3.");
        ToolRunner.Run("dedup", Scratch("none")).ShouldFailWithOneLine(1, "error: '*none' does not exist.");
        ToolRunner.Run("eval", Scratch("none")).ShouldFailWithOneLine(1, "error: Folder '*none' does not exist.");
        ToolRunner.Run("eval", _photos).ShouldFailWithOneLine(1, "error: No images in sub-folders of '*': put each class's images in a sub-folder named after it.");
        string oneClass = Directory.CreateDirectory(Scratch("one/cats")).FullName;
        File.Copy(Photos.Get(2), Path.Combine(oneClass, "chelsea.png"));
        File.Copy(Photos.Get(1), Path.Combine(oneClass, "coffee.png"));
        ToolRunner.Run("eval", Scratch("one"), "--model", Model("tiny_cnn_any_size.onnx"))
            .ShouldFailWithOneLine(1, "error: '*one' needs at least two classes (sub-folders) of readable images to evaluate retrieval; found 1 class(es), 2 image(s).");
    }
}
