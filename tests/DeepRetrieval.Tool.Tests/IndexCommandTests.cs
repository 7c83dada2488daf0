using DeepRetrieval.Data;
using DeepRetrieval.Tool.Gallery;

namespace DeepRetrieval.Tool.Tests;

public sealed class IndexCommandTests : IDisposable
{
    private readonly List<string> _folders = [];

    public void Dispose()
    {
        foreach (string folder in _folders)
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }

    private string Track(string folder)
    {
        _folders.Add(folder);
        return folder;
    }

    internal static Dictionary<string, float[]> VectorsByPath(string gallery)
    {
        GalleryManifest manifest = GalleryStore.ReadManifest(gallery);
        float[] rows = NpyReader.Read(Path.Combine(gallery, manifest.VectorsFile)).Data;
        int d = manifest.Model.Dimension;
        return manifest.Images.Select((image, i) => (image.Path, Row: rows.AsSpan(i * d, d).ToArray())).ToDictionary(x => x.Path, x => x.Row);
    }

    [Fact]
    public void Index_WritesAGalleryOfEveryPhoto_WithManifestFingerprintAndIndex()
    {
        string photos = Track(Photos.Folder(5));
        Directory.CreateDirectory(Path.Combine(photos, "more"));
        File.Move(Path.Combine(photos, "rocket.jpg"), Path.Combine(photos, "more", "rocket.jpg"));
        string gallery = Track(Photos.TempFolder("gallery"));

        ToolRunner.Result result = ToolRunner.Run("index", photos, "--out", gallery);

        result.ExitCode.Should().Be(0, result.ToString());
        result.Output.Should().Contain("5 images (5 new, 0 changed, 0 removed, 0 skipped), 512-d, HNSW32, model resnet18");
        GalleryManifest manifest = GalleryStore.ReadManifest(gallery);
        manifest.Root.Should().Be(photos);
        manifest.Model.Spec.Should().Be("resnet18");
        manifest.Model.Dimension.Should().Be(512);
        manifest.Model.Fingerprint.Should().MatchRegex("^[0-9a-f]{64}$");
        manifest.Preprocessing.Description.Should().Be("CenterCrop(1) Bilinear draft=on flip=off scales=[1]");
        manifest.Images.Select(i => i.Path).Should().Equal("LadyBird.jpg", "astronaut.png", "chelsea.png", "coffee.png", "more/rocket.jpg");
        foreach (GalleryImage image in manifest.Images)
        {
            string file = Path.Combine(photos, image.Path);
            image.Sha256.Should().Be(Photos.Sha256(file));
            image.Size.Should().Be(new FileInfo(file).Length);
        }
        // Exactly the current generation's files: nothing half-written or left over.
        Directory.GetFiles(gallery).Select(Path.GetFileName).Should().BeEquivalentTo("gallery.json", manifest.IndexFile, manifest.VectorsFile);
        DeepRetrieval.Indexes.IndexFile.Load(Path.Combine(gallery, manifest.IndexFile)).Count.Should().Be(5);
        VectorsByPath(gallery).Values.Should().OnlyContain(v => Math.Abs(System.Numerics.Tensors.TensorPrimitives.Norm<float>(v) - 1) < 1e-4);

        ToolRunner.Result again = ToolRunner.Run("index", photos, "--out", gallery);
        again.ExitCode.Should().Be(0);
        again.Output.Should().Contain("is up to date: 5 images");
    }

    [Fact]
    public void Index_IsIncremental_AddingNewAndChangedFiles_RemovingDeletedOnes_KeepingTheRest()
    {
        string photos = Track(Photos.Folder(4));
        string gallery = Track(Photos.TempFolder("gallery"));
        ToolRunner.Run("index", photos, "--out", gallery).ExitCode.Should().Be(0);
        Dictionary<string, float[]> before = VectorsByPath(gallery);
        long[] idsBefore = [.. GalleryStore.ReadManifest(gallery).Images.Select(i => i.Id)];

        File.Copy(Photos.Get(4), Path.Combine(photos, "new.jpg"));                        // new
        File.Copy(Photos.Get(5), Path.Combine(photos, "coffee.png"), overwrite: true);     // changed: other bytes under the same name
        File.Delete(Path.Combine(photos, "chelsea.png"));                                  // deleted
        File.SetLastWriteTimeUtc(Path.Combine(photos, "astronaut.png"), DateTime.UtcNow);  // touched: same bytes, new time

        ToolRunner.Result result = ToolRunner.Run("index", photos, "--out", gallery);

        result.ExitCode.Should().Be(0, result.ToString());
        result.Output.Should().Contain("4 images (1 new, 1 changed, 1 removed, 0 skipped)");
        GalleryManifest manifest = GalleryStore.ReadManifest(gallery);
        manifest.Images.Select(i => i.Path).Should().Equal("astronaut.png", "coffee.png", "new.jpg", "rocket.jpg");
        manifest.Images.Single(i => i.Path == "coffee.png").Sha256.Should().Be(Photos.Sha256(Photos.Get(5)));
        manifest.Images.Single(i => i.Path == "astronaut.png").Modified.Should().Be(File.GetLastWriteTimeUtc(Path.Combine(photos, "astronaut.png")).Ticks);
        Dictionary<string, float[]> after = VectorsByPath(gallery);
        after["astronaut.png"].Should().Equal(before["astronaut.png"], "an unchanged file keeps its vector");
        after["rocket.jpg"].Should().Equal(before["rocket.jpg"]);
        after["coffee.png"].Should().NotEqual(before["coffee.png"], "a changed file is embedded again");
        manifest.Images.Where(i => i.Path is "coffee.png" or "new.jpg").Select(i => i.Id).Should().NotIntersectWith(idsBefore, "new vectors get new ids");

        // The updated gallery equals one built from scratch on the same folder.
        string fresh = Track(Photos.TempFolder("fresh"));
        ToolRunner.Run("index", photos, "--out", fresh).ExitCode.Should().Be(0);
        Dictionary<string, float[]> scratch = VectorsByPath(fresh);
        scratch.Keys.Should().BeEquivalentTo(after.Keys);
        foreach ((string path, float[] vector) in scratch)
            after[path].Should().Equal(vector, (a, b) => Math.Abs(a - b) < 1e-5f, path);

        // Searching the updated index: the new photo finds itself, the deleted one is gone.
        ToolRunner.Result search = ToolRunner.Run("search", gallery, Photos.Get(4), "--k", "4");
        search.Output.Split('\n')[1].Should().EndWith(Path.Combine(photos, "new.jpg"));
        search.Output.Should().NotContain("chelsea.png");
    }

    [Fact]
    public void Index_InterruptedMidway_KeepsWhatItEmbedded_AndTheNextRunFinishes()
    {
        string photos = Track(Photos.Folder(8));
        string gallery = Track(Photos.TempFolder("gallery"));
        using var interrupt = new CancellationTokenSource();

        // Ctrl+C after the third image.
        ToolRunner.Result interrupted = ToolRunner.Run(interrupt.Token, (done, _) =>
        {
            if (done >= 3) interrupt.Cancel();
        }, "index", photos, "--out", gallery, "--checkpoint-every", "2");

        interrupted.ShouldFailWithOneLine(130, "error: Interrupted: embedded * of 8 images; the gallery holds * Run the same command again to finish.");
        GalleryManifest partial = GalleryStore.ReadManifest(gallery);
        partial.Images.Count.Should().BeInRange(3, 7);
        Directory.GetFiles(gallery).Should().HaveCount(3, "one complete generation, no temporary files");
        DeepRetrieval.Indexes.IndexFile.Load(Path.Combine(gallery, partial.IndexFile)).Count.Should().Be(partial.Images.Count);

        ToolRunner.Result resumed = ToolRunner.Run("index", photos, "--out", gallery);
        resumed.ExitCode.Should().Be(0, resumed.ToString());
        resumed.Output.Should().Contain($"8 images ({8 - partial.Images.Count} new, 0 changed, 0 removed, 0 skipped)");
        GalleryStore.ReadManifest(gallery).Images.Should().HaveCount(8);
    }

    [Fact]
    public void Index_WithAnotherIndexKind_RebuildsTheIndexFromTheStoredVectors()
    {
        string photos = Track(Photos.Folder(3));
        string gallery = Track(Photos.TempFolder("gallery"));
        ToolRunner.Run("index", photos, "--out", gallery).ExitCode.Should().Be(0);
        Dictionary<string, float[]> before = VectorsByPath(gallery);

        ToolRunner.Result result = ToolRunner.Run("index", photos, "--out", gallery, "--index", "Flat");

        result.ExitCode.Should().Be(0, result.ToString());
        GalleryManifest manifest = GalleryStore.ReadManifest(gallery);
        manifest.Index.Should().Be("Flat");
        DeepRetrieval.Indexes.IndexFile.Load(Path.Combine(gallery, manifest.IndexFile)).Should().BeOfType<DeepRetrieval.Indexes.FlatIndex>().Which.Count.Should().Be(3);
        VectorsByPath(gallery).Should().BeEquivalentTo(before, "nothing is embedded again");
    }

    [Fact]
    public void Index_SkipsAndReportsUnreadableFiles_AndRetriesThemNextTime()
    {
        string photos = Track(Photos.Folder(2));
        File.WriteAllBytes(Path.Combine(photos, "broken.jpg"), File.ReadAllBytes(Photos.Get(3))[..2000]);
        File.WriteAllBytes(Path.Combine(photos, "empty.png"), []);
        string gallery = Track(Photos.TempFolder("gallery"));

        ToolRunner.Result result = ToolRunner.Run("index", photos, "--out", gallery);

        result.ExitCode.Should().Be(0, result.ToString());
        result.Output.Should().Contain("2 images (2 new, 0 changed, 0 removed, 2 skipped)");
        result.Error.Should().Contain("warning: skipped 'broken.jpg'").And.Contain("warning: skipped 'empty.png'");
        GalleryStore.ReadManifest(gallery).Skipped.Select(s => s.Path).Should().Equal("broken.jpg", "empty.png");

        File.Copy(Photos.Get(3), Path.Combine(photos, "broken.jpg"), overwrite: true);
        ToolRunner.Result fixedRun = ToolRunner.Run("index", photos, "--out", gallery);
        fixedRun.Output.Should().Contain("3 images (1 new, 0 changed, 0 removed, 1 skipped)");
    }
}
