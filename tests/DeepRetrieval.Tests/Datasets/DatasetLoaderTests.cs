using System.Formats.Tar;
using System.IO.Compression;
using DeepRetrieval.Data;
using DeepRetrieval.Datasets;
using DeepRetrieval.Evaluation.Protocols;
using DeepRetrieval.Tests.Data;

namespace DeepRetrieval.Tests.Datasets;

public class DatasetLoaderTests
{
    [Fact]
    public void Mnist_LoadsTheIdxFiles_AsInMemoryGreyImages()
    {
        using var directory = new TempDirectory();
        byte[] pixels = Enumerable.Range(0, 3 * 28 * 28).Select(i => (byte)i).ToArray();
        IdxWriter.WriteImages(directory.File("train-images-idx3-ubyte.gz"), new IdxImages(3, 28, 28, pixels));
        IdxWriter.WriteLabels(directory.File("train-labels-idx1-ubyte"), [7, 0, 9]);
        IdxWriter.WriteImages(directory.File("t10k-images-idx3-ubyte"), new IdxImages(1, 28, 28, pixels[..784]));
        IdxWriter.WriteLabels(directory.File("t10k-labels-idx1-ubyte.gz"), [3]);

        (ImageCollection train, ImageCollection test) = Mnist.Load(directory.Path);

        train.Labels().Should().Equal(7, 0, 9);
        test.Labels().Should().Equal(3);
        RawImage second = train.Images[1].Pixels!;
        (second.Width, second.Height, second.Channels).Should().Be((28, 28, 1));
        second.Pixels.Span[5].Should().Be(unchecked((byte)(784 + 5)), "pixel 5 of the second image is value 789 mod 256");
        train.ClassNames.Should().HaveCount(10);
    }

    [Fact]
    public void Mnist_Load_NamesTheMissingFile()
    {
        using var directory = new TempDirectory();
        FluentActions.Invoking(() => Mnist.Load(directory.Path)).Should().Throw<FileNotFoundException>().WithMessage("*train-images-idx3-ubyte*DownloadAsync*");
    }

    [Fact]
    public void Cifar10_UnpacksTheArchive_AndInterleavesThePlanes()
    {
        using var directory = new TempDirectory();
        // One record per batch: label b, red plane all b, green 100 + b, blue 200 + b, except pixel (row 1, column 2).
        var entries = new Dictionary<string, byte[]>();
        for (int b = 1; b <= 6; b++)
        {
            string name = b <= 5 ? $"data_batch_{b}.bin" : "test_batch.bin";
            var record = new byte[1 + 3072];
            record[0] = (byte)(b - 1);
            for (int p = 0; p < 1024; p++) (record[1 + p], record[1 + 1024 + p], record[1 + 2048 + p]) = ((byte)b, (byte)(100 + b), (byte)(200 + b));
            record[1 + 32 + 2] = 42;
            entries[$"cifar-10-batches-bin/{name}"] = record;
        }

        WriteTarGz(directory.File("cifar-10-binary.tar.gz"), entries);

        (ImageCollection train, ImageCollection test) = Cifar10.Load(directory.Path);

        train.Labels().Should().Equal(0, 1, 2, 3, 4);
        test.Labels().Should().Equal(5);
        ReadOnlySpan<byte> pixels = train.Images[2].Pixels!.Pixels.Span;
        pixels[..3].ToArray().Should().Equal(3, 103, 203);
        pixels[(32 + 2) * 3].Should().Be(42, "the red value of row 1, column 2");
        Directory.Exists(directory.File("cifar-10-batches-bin")).Should().BeTrue();
    }

    [Fact]
    public void Cifar100_ReadsFineOrCoarseLabels()
    {
        using var directory = new TempDirectory();
        string folder = Directory.CreateDirectory(directory.File("cifar-100-binary")).FullName;
        byte[] Record(byte coarse, byte fine) => [coarse, fine, .. new byte[3072]];
        File.WriteAllBytes(Path.Combine(folder, "train.bin"), [.. Record(3, 77), .. Record(19, 99)]);
        File.WriteAllBytes(Path.Combine(folder, "test.bin"), Record(0, 1));
        File.WriteAllLines(Path.Combine(folder, "coarse_label_names.txt"), Enumerable.Range(0, 20).Select(i => $"super{i}"));

        Cifar100.Load(directory.Path).Train.Labels().Should().Equal(77, 99);
        (ImageCollection coarse, _) = Cifar100.Load(directory.Path, coarseLabels: true);
        coarse.Labels().Should().Equal(3, 19);
        coarse.ClassNames[19].Should().Be("super19");

        File.WriteAllBytes(Path.Combine(folder, "test.bin"), new byte[100]);
        FluentActions.Invoking(() => Cifar100.Load(directory.Path)).Should().Throw<InvalidDataException>().WithMessage("*3074-byte*");
    }

    [Fact]
    public void Caltech101_SplitsEachClass_LeavingOutTheGoogleBackground()
    {
        using var directory = new TempDirectory();
        string categories = directory.File("101_ObjectCategories");
        foreach ((string name, int count) in new[] { ("BACKGROUND_Google", 40), ("accordion", 55), ("ant", 42) })
        {
            Directory.CreateDirectory(Path.Combine(categories, name));
            for (int i = 1; i <= count; i++) File.WriteAllBytes(Path.Combine(categories, name, $"image_{i:0000}.jpg"), []);
        }

        (ImageCollection train, ImageCollection test) = Caltech101.Load(directory.Path);

        train.ClassNames.Should().Equal("accordion", "ant");
        train.Labels().Count(l => l == 0).Should().Be(30);
        test.Labels().Count(l => l == 0).Should().Be(25, "55 − 30 left, fewer than the 50 cap");
        test.Labels().Count(l => l == 1).Should().Be(12);
        train.Images.Concat(test.Images).Select(i => i.Name).Should().OnlyHaveUniqueItems();
        Caltech101.Load(directory.Path).Train.Images.Select(i => i.Name).Should().Equal(train.Images.Select(i => i.Name), "the split is seeded");
        Caltech101.Load(directory.Path, seed: 1).Train.Images.Select(i => i.Name).Should().NotEqual(train.Images.Select(i => i.Name));
    }

    [Fact]
    public void Caltech256_DropsTheNumberPrefix_AndTheClutterClass()
    {
        using var directory = new TempDirectory();
        foreach (string name in new[] { "001.ak47", "002.american-flag", "257.clutter" })
        {
            Directory.CreateDirectory(directory.File(Path.Combine("256_ObjectCategories", name)));
            for (int i = 1; i <= 4; i++) File.WriteAllBytes(directory.File(Path.Combine("256_ObjectCategories", name, $"{name[..3]}_{i:0000}.jpg")), []);
        }

        (ImageCollection train, ImageCollection test) = Caltech256.Load(directory.Path, trainPerClass: 3);

        train.ClassNames.Should().Equal("ak47", "american-flag");
        (train.Count, test.Count).Should().Be((6, 2));
        FluentActions.Invoking(() => Caltech256.Load(directory.Path, trainPerClass: 4)).Should().Throw<InvalidDataException>().WithMessage("*ak47*");
    }

    [Fact]
    public void RevisitedOxford_UnpacksTheImages_AndPairsThemWithTheGroundTruth()
    {
        using var directory = new TempDirectory();
        string dataset = Directory.CreateDirectory(directory.File("roxford5k")).FullName;
        File.Copy(ProtocolFixture("gnd_lists.pkl"), Path.Combine(dataset, "gnd_roxford5k.pkl"));
        string[] names = ["all_souls_000001", "all_souls_000002", "radcliffe_camera_000003", "magdalen_000004", "all_souls_000013", "radcliffe_camera_000519"];
        WriteTarGz(Path.Combine(dataset, "oxbuild_images-v1.tgz"), names.ToDictionary(n => $"oxbuild_images/{n}.jpg", n => new byte[] { 1 }));

        RevisitedDataset revisited = RevisitedOxfordParis.Load(directory.Path, RevisitedOxfordParis.Oxford);

        revisited.Database.Images.Select(i => i.Name).Should().Equal(names[..4]);
        revisited.Queries.Images.Select(i => i.Name).Should().Equal(names[4..]);
        File.Exists(revisited.Queries.Images[0].Path).Should().BeTrue();
        revisited.GroundTruth.Queries[0].BoundingBox.ToPixelCrop().Should().Be((136, 34, 648, 955));

        File.Delete(revisited.Database.Images[3].Path!);
        FluentActions.Invoking(() => RevisitedOxfordParis.Load(directory.Path, RevisitedOxfordParis.Oxford))
            .Should().Throw<FileNotFoundException>().WithMessage("*magdalen_000004*");
        FluentActions.Invoking(() => RevisitedOxfordParis.Load(directory.Path, "oxford")).Should().Throw<ArgumentException>().WithParameterName("name");
    }

    [Fact]
    public void Holidays_LabelsByHundred_AndSaysHowToGetTheFtpArchives()
    {
        using var directory = new TempDirectory();
        FluentActions.Invoking(() => Holidays.Load(directory.Path)).Should().Throw<DirectoryNotFoundException>().WithMessage("*ftp://*jpg1.tar.gz*");
        foreach (string name in new[] { "100000.jpg", "100001.jpg", "100100.jpg" }) File.WriteAllBytes(directory.File(name), []);

        (ImageCollection images, int[] queries, QueryJudgments[] judgments) = Holidays.Load(directory.Path);

        images.Labels().Should().Equal(1000, 1000, 1001);
        queries.Should().Equal(0, 2);
        judgments[1].Positives.Should().BeEmpty();
    }

    [Fact]
    public void UkBench_LabelsGroupsOfFour_AndRejectsAGap()
    {
        using var directory = new TempDirectory();
        string full = Directory.CreateDirectory(directory.File("full")).FullName;
        for (int i = 0; i < 8; i++) File.WriteAllBytes(Path.Combine(full, $"ukbench{i:00000}.jpg"), []);

        UkBench.Load(directory.Path).Labels().Should().Equal(0, 0, 0, 0, 1, 1, 1, 1);

        File.Delete(Path.Combine(full, "ukbench00002.jpg"));
        FluentActions.Invoking(() => UkBench.Load(directory.Path)).Should().Throw<InvalidDataException>().WithMessage("*expected image 2*");
    }

    [Theory]
    [InlineData("0002_c1s1_000451_03.jpg", 2, 1)]
    [InlineData("-1_c3s2_001234_02.jpg", -1, 3)]
    [InlineData("0000_c6s4_002202_01.jpg", 0, 6)]
    [InlineData("/data/query/1501_c6s4_001902_01.jpg", 1501, 6)]
    public void Market1501_ParsesIdentityAndCamera(string name, int identity, int camera) =>
        Market1501.ParseFileName(name).Should().Be((identity, camera));

    [Fact]
    public void Market1501_LoadsTheThreeSplits()
    {
        using var directory = new TempDirectory();
        string root = directory.File("Market-1501-v15.09.15");
        foreach ((string split, string name) in new[] { ("bounding_box_train", "0002_c1s1_000451_03.jpg"), ("query", "0001_c1s1_001051_00.jpg"), ("bounding_box_test", "-1_c2s1_000001_00.jpg") })
        {
            Directory.CreateDirectory(Path.Combine(root, split));
            File.WriteAllBytes(Path.Combine(root, split, name), []);
        }

        (ImageCollection train, ImageCollection query, ImageCollection gallery) = Market1501.Load(directory.Path);

        train.Images.Single().Label.Should().Be(2);
        query.Images.Single().Camera.Should().Be(1);
        gallery.Images.Single().Label.Should().Be(-1);
        File.WriteAllBytes(Path.Combine(root, "query", "Thumbs.jpg"), []);
        FluentActions.Invoking(() => Market1501.Load(directory.Path)).Should().Throw<InvalidDataException>().WithMessage("*Thumbs.jpg*");
        FluentActions.Invoking(() => Market1501.ParseFileName("person.jpg")).Should().Throw<FormatException>();
    }

    [Fact]
    public void GoogleLandmarks_ReadsTheCsvs_AndTheSplitFolderLayout()
    {
        using var directory = new TempDirectory();
        File.WriteAllText(directory.File("train.csv"), "id,url,landmark_id\n0123456789abcdef,http://x/1.jpg,7\nfedcba9876543210,http://x/2.jpg,3\n");
        File.WriteAllText(directory.File("train_clean.csv"), "landmark_id,images\n7,0123456789abcdef aaaa000011112222\n");
        File.WriteAllText(directory.File("index.csv"), "id\n0123456789abcdef\n");
        string path = GoogleLandmarksV2.ImagePath(directory.Path, "train", "0123456789abcdef");
        path.Should().EndWith(Path.Combine("train", "0", "1", "2", "0123456789abcdef.jpg"));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, []);

        ImageCollection train = GoogleLandmarksV2.LoadTrain(directory.Path);
        train.Images.Single().Label.Should().Be(7, "only the downloaded image is kept");
        GoogleLandmarksV2.LoadTrain(directory.Path, onlyDownloaded: false).Labels().Should().Equal(7, 3);
        GoogleLandmarksV2.LoadTrain(directory.Path, clean: true, onlyDownloaded: false).Images.Select(i => i.Name).Should().Equal("0123456789abcdef", "aaaa000011112222");
        GoogleLandmarksV2.LoadUnlabelled(directory.Path, "index", onlyDownloaded: false).Images.Single().Label.Should().Be(-1);
        FluentActions.Invoking(() => GoogleLandmarksV2.LoadUnlabelled(directory.Path, "test")).Should().Throw<FileNotFoundException>().WithMessage("*test.csv*");
    }

    [Fact]
    public async Task GoogleLandmarks_DownloadsAnArchive_ChecksItsPublishedMd5_AndUnpacksIt()
    {
        using var directory = new TempDirectory();
        using var server = new FakeServer();
        string tar = directory.File("source.tar");
        WriteTar(tar, new Dictionary<string, byte[]> { ["a/b/c/abc0000000000001.jpg"] = [1, 2, 3] });
        byte[] archive = File.ReadAllBytes(tar);
        server.Serve("https://s3.amazonaws.com/google-landmark/test/images_003.tar", archive);
        server.Serve("https://s3.amazonaws.com/google-landmark/md5sum/test/md5.images_003.txt",
            System.Text.Encoding.ASCII.GetBytes(Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(archive)) + "  images_003.tar\n"));

        await GoogleLandmarksV2.DownloadImagesAsync(directory.Path, "test", 3, 1, server.Client());

        File.ReadAllBytes(GoogleLandmarksV2.ImagePath(directory.Path, "test", "abc0000000000001")).Should().Equal(1, 2, 3);
        int requests = server.Requests.Count;
        await GoogleLandmarksV2.DownloadImagesAsync(directory.Path, "test", 3, 1, server.Client());
        server.Requests.Should().HaveCount(requests, "an archive already unpacked is not fetched again");
        await FluentActions.Invoking(() => GoogleLandmarksV2.DownloadImagesAsync(directory.Path, "test", 19, 2, server.Client()))
            .Should().ThrowAsync<ArgumentOutOfRangeException>().WithParameterName("count");
    }

    [Fact]
    public void ArchiveExtraction_RefusesEntriesThatEscapeTheDestination()
    {
        using var directory = new TempDirectory();
        string zip = directory.File("evil.zip");
        using (ZipArchive archive = ZipFile.Open(zip, ZipArchiveMode.Create))
            archive.CreateEntry("../outside.txt");
        string dataset = Directory.CreateDirectory(directory.File("ukbench")).FullName;
        File.Move(zip, Path.Combine(dataset, "ukbench.zip"));

        FluentActions.Invoking(() => UkBench.Load(dataset)).Should().Throw<InvalidDataException>().WithMessage("*outside*");
        File.Exists(directory.File("outside.txt")).Should().BeFalse();
    }

    private static string ProtocolFixture(string name, [System.Runtime.CompilerServices.CallerFilePath] string source = "") =>
        Path.Combine(Path.GetDirectoryName(source)!, "..", "Evaluation", "Protocols", "Reference", name);

    internal static void WriteTarGz(string path, IReadOnlyDictionary<string, byte[]> entries)
    {
        using FileStream file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        WriteTarEntries(gzip, entries);
    }

    internal static void WriteTar(string path, IReadOnlyDictionary<string, byte[]> entries)
    {
        using FileStream file = File.Create(path);
        WriteTarEntries(file, entries);
    }

    private static void WriteTarEntries(Stream stream, IReadOnlyDictionary<string, byte[]> entries)
    {
        using var writer = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true);
        foreach ((string name, byte[] content) in entries)
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) });
    }
}
