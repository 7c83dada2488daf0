using System.Security.Cryptography;
using DeepRetrieval.Datasets;
using DeepRetrieval.Tests.Data;

namespace DeepRetrieval.Tests.Datasets;

public class DatasetDownloaderTests
{
    private static readonly byte[] Content = Enumerable.Range(0, 100_000).Select(i => (byte)(i * 7)).ToArray();
    private static readonly string Md5 = Convert.ToHexStringLower(MD5.HashData(Content));
    private const string Url = "https://example.org/data/file.bin";

    [Fact]
    public async Task Download_ResumesFromThePartialFile_WithARangeRequest()
    {
        using var directory = new TempDirectory();
        using var server = new FakeServer();
        server.Serve(Url, Content);
        File.WriteAllBytes(directory.File("file.bin.part"), Content[..40_000]);

        await DatasetDownloader.DownloadAsync(directory.Path, [new DatasetFile("file.bin", new Uri(Url), Md5)], server.Client(), null, null, default);

        File.ReadAllBytes(directory.File("file.bin")).Should().Equal(Content);
        server.Ranges.Single()!.Ranges.Single().From.Should().Be(40_000);
        File.Exists(directory.File("file.bin.part")).Should().BeFalse();
    }

    [Fact]
    public async Task Download_StartsOver_WhenTheServerIgnoresTheRange()
    {
        using var directory = new TempDirectory();
        using var server = new FakeServer { IgnoreRanges = true };
        server.Serve(Url, Content);
        File.WriteAllBytes(directory.File("file.bin.part"), new byte[40_000]);

        await DatasetDownloader.DownloadAsync(directory.Path, [new DatasetFile("file.bin", new Uri(Url), Md5)], server.Client(), null, null, default);

        File.ReadAllBytes(directory.File("file.bin")).Should().Equal(Content);
    }

    [Fact]
    public async Task Download_DeletesAFileWithTheWrongChecksum_AndLeavesNothingUnderTheFinalName()
    {
        using var directory = new TempDirectory();
        using var server = new FakeServer();
        server.Serve(Url, Content);

        Func<Task> download = () => DatasetDownloader.DownloadAsync(directory.Path, [new DatasetFile("file.bin", new Uri(Url), new string('0', 32))], server.Client(), null, null, default);

        await download.Should().ThrowAsync<InvalidDataException>().WithMessage($"*MD5 {Md5}*");
        File.Exists(directory.File("file.bin")).Should().BeFalse();
        File.Exists(directory.File("file.bin.part")).Should().BeFalse();
    }

    [Fact]
    public async Task Download_KeepsAValidFile_WithoutAskingTheServer()
    {
        using var directory = new TempDirectory();
        using var server = new FakeServer { Offline = true };
        File.WriteAllBytes(directory.File("file.bin"), Content);

        await DatasetDownloader.DownloadAsync(directory.Path, [new DatasetFile("file.bin", new Uri(Url), Md5)], server.Client(), null, null, default);

        server.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Download_WhenOffline_SaysWhereToPutACopy()
    {
        using var directory = new TempDirectory();
        using var server = new FakeServer { Offline = true };

        Func<Task> download = () => DatasetDownloader.DownloadAsync(directory.Path, [new DatasetFile("file.bin", new Uri(Url), Md5)], server.Client(), null, null, default);

        (await download.Should().ThrowAsync<HttpRequestException>())
            .Which.Message.Should().Contain(directory.File("file.bin")).And.Contain(Md5).And.Contain("offline");
    }

    [Fact]
    public async Task Download_RejectsAFileTheValidatorRejects()
    {
        using var directory = new TempDirectory();
        using var server = new FakeServer();
        server.Serve(Url, Content);

        Func<Task> download = () => DatasetDownloader.DownloadAsync(directory.Path, [new DatasetFile("file.bin", new Uri(Url))], server.Client(),
            _ => throw new InvalidDataException("not the expected header"), null, default);

        await download.Should().ThrowAsync<InvalidDataException>().WithMessage("*not the expected header*");
        File.Exists(directory.File("file.bin")).Should().BeFalse();
    }

    [Fact]
    public async Task Download_ReportsAnHttpError()
    {
        using var directory = new TempDirectory();
        using var server = new FakeServer();
        Func<Task> download = () => DatasetDownloader.DownloadAsync(directory.Path, [new DatasetFile("file.bin", new Uri(Url))], server.Client(), null, null, default);
        (await download.Should().ThrowAsync<HttpRequestException>()).Which.Message.Should().Contain("404");
    }

    [Fact]
    public async Task FashionMnist_Download_ChecksThePublishedChecksum()
    {
        using var directory = new TempDirectory();
        using var server = new FakeServer();
        foreach (string name in DeepRetrieval.Datasets.FashionMnist.FileNames)
            server.Serve("https://mirror.example/" + name + ".gz", Content);

        Func<Task> download = () => DeepRetrieval.Datasets.FashionMnist.DownloadAsync(directory.Path, server.Client(), new Uri("https://mirror.example/"));

        await download.Should().ThrowAsync<InvalidDataException>().WithMessage("*8d4fb7e6c68d591d4c3dfef9ec88bf0d*");
    }
}
