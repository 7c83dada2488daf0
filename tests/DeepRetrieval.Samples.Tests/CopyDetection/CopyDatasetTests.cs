using DeepRetrieval.Samples.CopyDetection;
using DeepRetrieval.Samples.CopyDetection.Copies;
using DeepRetrieval.Samples.CopyDetection.Photos;
using Microsoft.Extensions.Logging.Abstractions;

namespace DeepRetrieval.Samples.Tests.CopyDetection;

/// <summary>The copies are a function of (photo, edit, seed), written once and re-used.</summary>
public sealed class CopyDatasetTests
{
    private static readonly string[] Edits = ["rotate-small", "noise", "text", "overlay"];

    [Fact]
    public void Create_MakesTheSameCopiesInAnotherCache_AndReusesItsOwn()
    {
        DebianPhotos.Require();
        IReadOnlyList<Photo> photos = PhotoCatalog.Find(["/usr/share/backgrounds/mate/nature"], 2, NullLogger.Instance);
        string first = DebianPhotos.TemporaryFolder(), second = DebianPhotos.TemporaryFolder();
        try
        {
            var settings = new BenchmarkSettings { Originals = 2, Distractors = 3, Transforms = Edits, Seed = 7, CacheDirectory = first, Threads = 2 };
            CopyDataset made = CopyDataset.Create(photos, settings, NullLogger.Instance);
            CopyDataset again = CopyDataset.Create(photos, settings with { CacheDirectory = second }, NullLogger.Instance);

            made.Originals.Should().HaveCount(2);
            made.Distractors.Should().HaveCount(3);
            made.References.Select(p => p.Key).Should().BeInAscendingOrder(StringComparer.Ordinal).And.OnlyHaveUniqueItems();
            made.Copies.Select(c => c.Id).Should().Equal(made.Originals.SelectMany(o => Edits.Select(e => $"{o.Key}/{e}")));
            for (int i = 0; i < made.Copies.Count; i++)
                File.ReadAllBytes(made.Copies[i].Path).Should().Equal(File.ReadAllBytes(again.Copies[i].Path), $"copy {made.Copies[i].Id} is seeded");

            DateTime written = File.GetLastWriteTimeUtc(made.Copies[0].Path);
            Thread.Sleep(20);
            CopyDataset reused = CopyDataset.Create(photos, settings, NullLogger.Instance);
            File.GetLastWriteTimeUtc(reused.Copies[0].Path).Should().Be(written, "a cached copy is not rewritten");

            // Another seed picks other originals or other random edits: the copies differ.
            CopyDataset reseeded = CopyDataset.Create(photos, settings with { Seed = 8, CacheDirectory = second }, NullLogger.Instance);
            reseeded.Copies.Select(c => c.Path).Should().NotIntersectWith(again.Copies.Select(c => c.Path));
        }
        finally
        {
            Directory.Delete(first, recursive: true);
            Directory.Delete(second, recursive: true);
        }
    }

    [Fact]
    public void Create_RefusesMoreOriginalsThanPhotos()
    {
        Photo[] photos = [new("a", "/nonexistent/a.jpg", 1), new("b", "/nonexistent/b.jpg", 1)];
        var act = () => CopyDataset.Create(photos, new BenchmarkSettings { Originals = 3, CacheDirectory = Path.GetTempPath() }, NullLogger.Instance);
        act.Should().Throw<UsageException>().WithMessage("3 originals were asked for but only 2 distinct photos*");
    }

    [Theory]
    [InlineData("twirl", null, "Unknown transform 'twirl'*")]
    [InlineData(null, "sift", "sift re-ranks the embedding's short list*")]
    [InlineData(null, "hnsw", "Unknown method 'hnsw'*")]
    public void Validate_NamesTheBadOption(string? transform, string? method, string message)
    {
        var settings = new BenchmarkSettings
        {
            Transforms = transform is null ? ["flip"] : [transform],
            Methods = method is null ? ["phash"] : [method],
        };
        settings.Invoking(s => s.Validate()).Should().Throw<UsageException>().WithMessage(message);
    }
}
