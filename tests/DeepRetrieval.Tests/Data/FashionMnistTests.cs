using System.Runtime.CompilerServices;
using DeepRetrieval.Data;
using DeepRetrieval.Datasets;

namespace DeepRetrieval.Tests.Data;

public sealed class FashionMnistTests
{
    /// <summary>Writes a small synthetic dataset with the standard file names; label i is i mod 10.</summary>
    internal static void WriteSynthetic(string directory, int train, int test, bool gzip, int side = FashionMnist.ImageSide)
    {
        string suffix = gzip ? ".gz" : "";
        IdxWriter.WriteImages(Path.Combine(directory, FashionMnist.TrainImagesFileName + suffix), Images(train, side, seed: 1));
        IdxWriter.WriteLabels(Path.Combine(directory, FashionMnist.TrainLabelsFileName + suffix), Labels(train));
        IdxWriter.WriteImages(Path.Combine(directory, FashionMnist.TestImagesFileName + suffix), Images(test, side, seed: 2));
        IdxWriter.WriteLabels(Path.Combine(directory, FashionMnist.TestLabelsFileName + suffix), Labels(test));
    }

    private static IdxImages Images(int count, int side, int seed)
    {
        var pixels = new byte[count * side * side];
        new Random(seed).NextBytes(pixels);
        return new IdxImages(count, side, side, pixels);
    }

    private static byte[] Labels(int count) => [.. Enumerable.Range(0, count).Select(i => (byte)(i % 10))];

    private static byte[] Serialize(Action<Stream> write)
    {
        using var buffer = new MemoryStream();
        write(buffer);
        return buffer.ToArray();
    }

    [Fact]
    public void ClassNames_AreTheTenZalandoClasses()
    {
        FashionMnist.ClassNames.Should().Equal(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
        FashionMnist.ClassNames.Should().HaveCount(FashionMnist.ClassCount);
        FashionMnist.FileNames.Should().Equal(
            "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");
        FashionMnist.DebianDirectory.Should().Be("/usr/share/datasets/fashion-mnist");
        FashionMnist.DownloadBaseUrl.Should().Be("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Load_ReadsADirectory(bool gzip)
    {
        using var dir = new TempDirectory();
        WriteSynthetic(dir.Path, train: 30, test: 12, gzip);

        FashionMnist data = FashionMnist.Load(dir.Path);

        data.TrainImages.Count.Should().Be(30);
        data.TrainImages.Rows.Should().Be(28);
        data.TrainLabels.Should().Equal(Labels(30));
        data.TestImages.Count.Should().Be(12);
        data.TestImages.Pixels.Should().Equal(Images(12, 28, seed: 2).Pixels);
        data.TestLabels.Should().HaveCount(12);
        FashionMnist.ContainsDataset(dir.Path).Should().BeTrue();
    }

    [Fact]
    public void Load_HonoursLimits()
    {
        using var dir = new TempDirectory();
        WriteSynthetic(dir.Path, train: 30, test: 12, gzip: true);

        FashionMnist data = FashionMnist.Load(dir.Path, maxTrain: 7, maxTest: 3);

        data.TrainImages.Count.Should().Be(7);
        data.TrainLabels.Should().HaveCount(7);
        data.TestImages.Count.Should().Be(3);
        data.TestLabels.Should().Equal(0, 1, 2);
    }

    [Fact]
    public void Load_FromStreams_PassesTheDistributedNames()
    {
        var files = new Dictionary<string, byte[]>
        {
            ["train-images-idx3-ubyte.gz"] = Serialize(s => IdxWriter.WriteImages(s, Images(5, 28, 1), gzip: true)),
            ["train-labels-idx1-ubyte.gz"] = Serialize(s => IdxWriter.WriteLabels(s, Labels(5), gzip: true)),
            ["t10k-images-idx3-ubyte.gz"] = Serialize(s => IdxWriter.WriteImages(s, Images(2, 28, 2))),
            ["t10k-labels-idx1-ubyte.gz"] = Serialize(s => IdxWriter.WriteLabels(s, Labels(2))),
        };
        var requested = new List<string>();

        FashionMnist data = FashionMnist.Load(name =>
        {
            requested.Add(name);
            return new ForwardOnlyStream(files[name], maxChunk: 4096);
        });

        requested.Should().BeEquivalentTo(files.Keys);
        data.TrainImages.Count.Should().Be(5);
        data.TestLabels.Should().Equal(0, 1);
    }

    [Fact]
    public void LoadFromResources_ReportsAMissingResource()
    {
        FluentActions.Invoking(() => FashionMnist.LoadFromResources(typeof(FashionMnistTests).Assembly))
            .Should().Throw<System.Resources.MissingManifestResourceException>()
            .WithMessage("*train-images-idx3-ubyte.gz*");
    }

    [Fact]
    public void MismatchedCounts_NameBothFiles()
    {
        using var dir = new TempDirectory();
        WriteSynthetic(dir.Path, train: 10, test: 4, gzip: false);
        IdxWriter.WriteLabels(Path.Combine(dir.Path, FashionMnist.TestLabelsFileName), Labels(5));

        FluentActions.Invoking(() => FashionMnist.Load(dir.Path))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*t10k-images-idx3-ubyte' holds 4 images but *t10k-labels-idx1-ubyte' holds 5 labels*");
    }

    [Fact]
    public void OutOfRangeLabel_IsReported()
    {
        using var dir = new TempDirectory();
        WriteSynthetic(dir.Path, train: 10, test: 4, gzip: false);
        IdxWriter.WriteLabels(Path.Combine(dir.Path, FashionMnist.TrainLabelsFileName), [0, 1, 2, 3, 4, 5, 6, 7, 12, 9]);

        FluentActions.Invoking(() => FashionMnist.Load(dir.Path))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*train-labels-idx1-ubyte': label 12 at index 8 is outside 0..9*");
    }

    [Fact]
    public void WrongImageSize_IsReported()
    {
        using var dir = new TempDirectory();
        WriteSynthetic(dir.Path, train: 3, test: 2, gzip: false, side: 27);

        FluentActions.Invoking(() => FashionMnist.Load(dir.Path))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*train-images-idx3-ubyte': Fashion-MNIST images are 28×28, but this file holds 27×27 images*");
    }

    [Fact]
    public void MissingFilesOrDirectory_AreReported()
    {
        using var dir = new TempDirectory();
        WriteSynthetic(dir.Path, train: 3, test: 2, gzip: true);
        File.Delete(Path.Combine(dir.Path, FashionMnist.TestImagesFileName + ".gz"));

        FluentActions.Invoking(() => FashionMnist.Load(dir.Path))
            .Should().Throw<FileNotFoundException>()
            .WithMessage("*t10k-images-idx3-ubyte*");
        FashionMnist.ContainsDataset(dir.Path).Should().BeFalse();
        FluentActions.Invoking(() => FashionMnist.Load(Path.Combine(dir.Path, "nope")))
            .Should().Throw<DirectoryNotFoundException>();
        FluentActions.Invoking(() => FashionMnist.Load(dir.Path, maxTrain: -1))
            .Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Constructor_ValidatesParts()
    {
        var images = new IdxImages(2, 28, 28, new byte[2 * 784]);

        FluentActions.Invoking(() => new FashionMnist(images, [1], images, [1, 2]))
            .Should().Throw<ArgumentException>().WithMessage("Training set: 2 images but 1 labels*");
        FluentActions.Invoking(() => new FashionMnist(images, [1, 2], images, [1, 10]))
            .Should().Throw<ArgumentException>().WithMessage("Test set: label 10 at index 1*");
        new FashionMnist(images, [1, 2], images, [3, 4]).TestLabels.Should().Equal(3, 4);
    }

    [Fact]
    public void RealDebianDataset_WhenInstalled()
    {
        if (!FashionMnist.ContainsDataset(FashionMnist.DebianDirectory))
            return;

        FashionMnist data = FashionMnist.Load(FashionMnist.DebianDirectory);

        data.TrainImages.Count.Should().Be(FashionMnist.FullTrainCount);
        data.TestImages.Count.Should().Be(FashionMnist.FullTestCount);
        data.TrainImages.Rows.Should().Be(28);
        data.TrainImages.Columns.Should().Be(28);
        data.TrainLabels.Should().HaveCount(60_000);
        data.TestLabels.Should().HaveCount(10_000);
        // Both splits are exactly balanced: 6,000 and 1,000 images per class.
        var trainCounts = new int[10];
        foreach (byte label in data.TrainLabels)
            trainCounts[label]++;
        trainCounts.Should().OnlyContain(c => c == 6000);
        var testCounts = new int[10];
        foreach (byte label in data.TestLabels)
            testCounts[label]++;
        testCounts.Should().OnlyContain(c => c == 1000);
        data.TrainImages.Pixels.AsSpan().Contains((byte)255).Should().BeTrue("pixels span the full 0..255 range");
    }

    [Fact]
    public void EmbeddedSampleSubset_IsThePrefixOfTheFullDataset()
    {
        string? subsetDirectory = FindSampleData();
        if (subsetDirectory is null)
            return;

        FashionMnist subset = FashionMnist.Load(subsetDirectory);

        subset.TrainImages.Count.Should().Be(6000);
        subset.TestImages.Count.Should().Be(1000);
        subset.TrainLabels.Should().HaveCount(6000);
        subset.TestLabels.Should().HaveCount(1000);
        if (FashionMnist.ContainsDataset(FashionMnist.DebianDirectory))
        {
            FashionMnist full = FashionMnist.Load(FashionMnist.DebianDirectory, maxTrain: 6000, maxTest: 1000);
            subset.TrainImages.Pixels.AsSpan().SequenceEqual(full.TrainImages.Pixels).Should().BeTrue();
            subset.TrainLabels.Should().Equal(full.TrainLabels);
            subset.TestImages.Pixels.AsSpan().SequenceEqual(full.TestImages.Pixels).Should().BeTrue();
            subset.TestLabels.Should().Equal(full.TestLabels);
        }
    }

    private static string? FindSampleData([CallerFilePath] string sourceFile = "")
    {
        string relative = Path.Combine("samples", "DeepRetrieval.Samples.FashionMnist", "Data");
        foreach (string? start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(sourceFile) })
        {
            for (string? dir = start; !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
            {
                string candidate = Path.Combine(dir, relative);
                if (FashionMnist.ContainsDataset(candidate))
                    return candidate;
            }
        }
        return null;
    }
}
