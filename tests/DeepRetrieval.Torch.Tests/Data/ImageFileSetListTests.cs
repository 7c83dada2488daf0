using DeepRetrieval.Torch.Data;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Data;

public sealed class ImageFileSetListTests : IDisposable
{
    private readonly GeneratedImageFolder _folder = new(6, classes: 2, width: 9, height: 7);

    public void Dispose() => _folder.Dispose();

    private string WriteCsv(string text)
    {
        string path = Path.Combine(_folder.Root, $"list-{Guid.NewGuid():N}.csv");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void FromCsv_ReadsQuotedPathsRelativeToTheCsv_AndSortsClassNamesOrdinally()
    {
        string odd = Path.Combine(_folder.Root, "class0", "a, \"b\".png");
        File.Copy(_folder.Files[0], odd);
        string csv = WriteCsv(
            "label;Path\n" +
            "zebra;class0/img00000.png\n" +
            "\n" +
            $"Ant;{_folder.Files[1]}\r\n" +
            "zebra ; \"class0/a, \"\"b\"\".png\" \n");

        var set = ImageFileSet.FromCsv(csv, new ImageCsvFormat { Delimiter = ';', PathColumn = "path" });

        set.Samples.Should().Equal(new ImageSample(_folder.Files[0], 1), new ImageSample(_folder.Files[1], 0), new ImageSample(odd, 1));
        set.Classes.Should().Equal("Ant", "zebra");
        set.Labels.Should().Equal(1, 0, 1);
        set.ReadBatches(8).Single().Images.shape.Should().Equal(3, 3, 7, 9);
    }

    [Fact]
    public void FromCsv_KeepsIntegerLabels_AndReadsFilesWithoutHeaderOrLabels()
    {
        var numbered = ImageFileSet.FromCsv(WriteCsv("path,label\nclass0/img00000.png,10\nclass1/img00001.png,2\n"));
        numbered.Labels.Should().Equal(10, 2);
        numbered.Classes.Should().BeEmpty("integer labels are bare ids, not positions of sorted names");

        var bare = ImageFileSet.FromCsv(WriteCsv("class0/img00002.png\nclass1/img00003.png\n"), new ImageCsvFormat { HasHeader = false, LabelColumn = null });
        bare.Samples.Select(s => s.Path).Should().Equal(_folder.Files[2], _folder.Files[3]);
        bare.Labels.Should().BeNull();
        bare.ReadBatches(4).Single().Labels.Should().BeNull();

        string elsewhere = Path.Combine(Path.GetTempPath(), $"list-{Guid.NewGuid():N}.csv");
        File.WriteAllText(elsewhere, "img00004.png,7\n");
        try
        {
            var based = ImageFileSet.FromCsv(elsewhere, new ImageCsvFormat { HasHeader = false, BaseFolder = Path.Combine(_folder.Root, "class0") });
            based.Samples.Single().Should().Be(new ImageSample(_folder.Files[4], 7));
        }
        finally
        {
            File.Delete(elsewhere);
        }
    }

    [Theory]
    [InlineData("file,label\na.png,1\n", "*no 'path' column*")]
    [InlineData("path,label\na.png\n", "*line 2*expected at least 2 fields*")]
    [InlineData("path,label\n\"a.png,1\n", "*line 2*not closed*")]
    [InlineData("path,label\n\"a\"x.png,1\n", "*line 2*after a quoted field*")]
    [InlineData("path,label\n,1\n", "*line 2*path is empty*")]
    [InlineData("path,label\na.png,\n", "*line 2*label is empty*")]
    [InlineData("path,label\n", "*lists no image*")]
    [InlineData("", "*is empty*")]
    public void FromCsv_RejectsMalformedLists_NamingTheFileAndLine(string text, string message)
    {
        string csv = WriteCsv(text);
        FluentActions.Invoking(() => ImageFileSet.FromCsv(csv)).Should().Throw<InvalidDataException>().WithMessage(message).WithMessage($"*{Path.GetFileName(csv)}*");
    }

    [Fact]
    public void FromCsv_RejectsAMissingFile_AnAbsurdLine_AndABadDelimiter()
    {
        FluentActions.Invoking(() => ImageFileSet.FromCsv(Path.Combine(_folder.Root, "none.csv"))).Should().Throw<FileNotFoundException>();
        string huge = WriteCsv("path,label\n" + new string('x', 70_000) + ",1\n");
        FluentActions.Invoking(() => ImageFileSet.FromCsv(huge)).Should().Throw<InvalidDataException>().WithMessage("*line 2*longer than 65536*");
        FluentActions.Invoking(() => ImageFileSet.FromCsv(huge, new ImageCsvFormat { Delimiter = '"' })).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void FromList_TakesPathsWithClassNames_AndTheConstructorTakesSamplesWithClasses()
    {
        var named = ImageFileSet.FromList([(_folder.Files[0], "dog"), (_folder.Files[1], "cat"), (_folder.Files[2], "dog")]);
        named.Classes.Should().Equal("cat", "dog");
        named.Labels.Should().Equal(1, 0, 1);
        named.ClassToIndex["dog"].Should().Be(1);

        var samples = new ImageSample[] { new(_folder.Files[3], 1), new(_folder.Files[4], 0) };
        var set = new ImageFileSet(samples, ["a", "b"]);
        set.Labels.Should().Equal(1, 0);
        set.GetLabel(0).Should().Be(1);

        var partly = new ImageFileSet([new ImageSample(_folder.Files[0], 0), new ImageSample(_folder.Files[1], -1)]);
        partly.Labels.Should().BeNull("training needs every image labelled; −1 means none");

        FluentActions.Invoking(() => new ImageFileSet(samples, ["a"])).Should().Throw<ArgumentException>().WithMessage("*label 1*only 1 class names*");
        FluentActions.Invoking(() => new ImageFileSet([new ImageSample(_folder.Files[0], -2)])).Should().Throw<ArgumentException>().WithMessage("*label -2*");
        FluentActions.Invoking(() => new ImageFileSet([])).Should().Throw<ArgumentException>().WithMessage("*empty*");
        FluentActions.Invoking(() => ImageFileSet.FromList([(_folder.Files[0], "")])).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void FromFiles_ReadsTheFilesInTheGivenOrder_WithoutLabels_SkippingMissingOnes()
    {
        using var scope = NewDisposeScope();
        string missing = Path.Combine(_folder.Root, "missing.png");
        var set = ImageFileSet.FromFiles([_folder.Files[5], missing, _folder.Files[0]]);
        var skipped = new List<SkippedImage>();

        var batches = set.ReadBatches(3, new ImmediateProgress<SkippedImage>(skipped.Add)).ToList();

        batches.Single().Ids.Should().Equal(0, 2);
        batches.Single().Labels.Should().BeNull();
        skipped.Single().Should().Match<SkippedImage>(s => s.Id == 1 && s.Path == missing);
        set.Labels.Should().BeNull();
        set.Invoking(s => s.LoadImage(1)).Should().Throw<FileNotFoundException>();
    }
}
