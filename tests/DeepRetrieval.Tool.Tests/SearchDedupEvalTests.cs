using System.Text.Json;
using DeepRetrieval.Imaging;

namespace DeepRetrieval.Tool.Tests;

/// <summary>search, dedup and eval on one gallery of real photos (built once for the class).</summary>
public sealed class SearchDedupEvalTests : IClassFixture<SearchDedupEvalTests.GalleryFixture>
{
    private readonly GalleryFixture _fixture;

    public SearchDedupEvalTests(GalleryFixture fixture) => _fixture = fixture;

    /// <summary>Six photos plus two copies of the astronaut (half size; JPEG re-encoded and brightened), indexed once.</summary>
    public sealed class GalleryFixture : IDisposable
    {
        public GalleryFixture()
        {
            Photos = DeepRetrieval.Tool.Tests.Photos.Folder(6);
            PixelImage astronaut = DeepRetrieval.Tool.Tests.Photos.Decode(Path.Combine(Photos, "astronaut.png"));
            DeepRetrieval.Tool.Tests.Photos.WriteJpeg(DeepRetrieval.Tool.Tests.Photos.HalfSize(astronaut), Path.Combine(Photos, "astronaut-half.jpg"));
            DeepRetrieval.Tool.Tests.Photos.WriteJpeg(DeepRetrieval.Tool.Tests.Photos.Brighter(astronaut, 15), Path.Combine(Photos, "astronaut-bright.jpg"), quality: 70);
            Gallery = DeepRetrieval.Tool.Tests.Photos.TempFolder("gallery");
            ToolRunner.Result result = ToolRunner.Run("index", Photos, "--out", Gallery);
            if (result.ExitCode != 0) throw new InvalidOperationException(result.ToString());
        }

        public string Photos { get; }

        public string Gallery { get; }

        public void Dispose()
        {
            Directory.Delete(Photos, recursive: true);
            Directory.Delete(Gallery, recursive: true);
        }
    }

    [Fact]
    public void Search_FindsEachPhotoFirst_WithScoresDescending()
    {
        string[] queries = [.. Enumerable.Range(0, 6).Select(Photos.Get)];
        ToolRunner.Result result = ToolRunner.Run(["search", _fixture.Gallery, .. queries, "--k", "3"]);

        result.ExitCode.Should().Be(0, result.ToString());
        string[] lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().HaveCount(6 * 4);
        for (int q = 0; q < 6; q++)
        {
            lines[q * 4].Should().Be(queries[q]);
            // "    1  1.0000  /tmp/.../astronaut.png": the same photo, cosine similarity 1.
            string[] first = lines[q * 4 + 1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            first[0].Should().Be("1");
            float.Parse(first[1], System.Globalization.CultureInfo.InvariantCulture).Should().BeApproximately(1f, 1e-4f);
            Path.GetFileName(first[2]).Should().Be(Path.GetFileName(queries[q]));
        }
    }

    [Fact]
    public void Search_Json_ParsesWithRanksPathsAndScores_AndTheCopiesRankNextToTheOriginal()
    {
        ToolRunner.Result result = ToolRunner.Run("search", _fixture.Gallery, Photos.Get(0), "--k", "8", "--json");

        result.ExitCode.Should().Be(0, result.ToString());
        using JsonDocument json = JsonDocument.Parse(result.Output);
        JsonElement answer = json.RootElement.EnumerateArray().Single();
        answer.GetProperty("query").GetString().Should().Be(Photos.Get(0));
        JsonElement[] hits = [.. answer.GetProperty("results").EnumerateArray()];
        hits.Should().HaveCount(8);
        hits.Select(h => h.GetProperty("rank").GetInt32()).Should().Equal(1, 2, 3, 4, 5, 6, 7, 8);
        float[] scores = [.. hits.Select(h => h.GetProperty("score").GetSingle())];
        scores.Should().BeInDescendingOrder();
        hits.Take(3).Select(h => h.GetProperty("relativePath").GetString()).Should().BeEquivalentTo("astronaut.png", "astronaut-half.jpg", "astronaut-bright.jpg");
        scores[2].Should().BeGreaterThan(0.9f, "the copies are near-duplicates");
        scores[3].Should().BeLessThan(0.8f, "the next photo is another subject");
        hits.Should().OnlyContain(h => File.Exists(h.GetProperty("path").GetString()));
    }

    [Fact]
    public void Search_Grid_WritesAPngOfTheQueriesAndTheirResults()
    {
        string grid = Path.Combine(Path.GetTempPath(), $"dr-grid-{Guid.NewGuid():N}.png");
        try
        {
            ToolRunner.Result result = ToolRunner.Run("search", _fixture.Gallery, Photos.Get(0), Photos.Get(4), "--k", "4", "--grid", grid);

            result.ExitCode.Should().Be(0, result.ToString());
            result.Output.Should().Contain($"Wrote {grid}");
            ImageInfo info = ImageDecoder.Identify(grid);
            info.Format.Should().Be(ImageFileFormat.Png);
            // Two rows of a query and four results: wider than tall, both above 2 × 160 thumbnails.
            info.StoredSize.Width.Should().BeGreaterThan(5 * 160);
            info.StoredSize.Height.Should().BeGreaterThan(2 * 160);
        }
        finally
        {
            File.Delete(grid);
        }
    }

    [Theory]
    [InlineData("phash")]
    [InlineData("dhash")]
    public void Dedup_ByHash_GroupsTheCopiesWithTheOriginal_InAFolderAndAGallery(string method)
    {
        foreach (string source in new[] { _fixture.Photos, _fixture.Gallery })
        {
            ToolRunner.Result result = ToolRunner.Run("dedup", source, "--method", method, "--json");

            result.ExitCode.Should().Be(0, result.ToString());
            using JsonDocument json = JsonDocument.Parse(result.Output);
            json.RootElement.GetProperty("method").GetString().Should().Be(method);
            json.RootElement.GetProperty("threshold").GetDouble().Should().Be(10);
            json.RootElement.GetProperty("images").GetInt32().Should().Be(8);
            json.RootElement.GetProperty("groups").EnumerateArray().Select(g => g.EnumerateArray().Select(p => p.GetString()).ToArray())
                .Should().BeEquivalentTo(new[] { new[] { "astronaut-bright.jpg", "astronaut-half.jpg", "astronaut.png" } }, o => o.WithStrictOrdering());
        }
        ToolRunner.Result text = ToolRunner.Run("dedup", _fixture.Photos, "--method", method, "--threshold", "12");
        text.Output.Should().StartWith($"1 group(s) of near-duplicates among 8 images in '{_fixture.Photos}' ({method}, Hamming distance ≤ 12 of 64 bits):\ngroup 1 (3 images):\n  astronaut-bright.jpg\n");
    }

    [Fact]
    public void Dedup_ByEmbedding_GroupsTheCopies_AsText()
    {
        ToolRunner.Result result = ToolRunner.Run("dedup", _fixture.Gallery, "--method", "embedding", "--threshold", "0.9");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().Equal(
            $"1 group(s) of near-duplicates among 8 images in '{_fixture.Photos}' (embedding, cosine similarity ≥ 0.9):",
            "group 1 (3 images):",
            "  astronaut-bright.jpg",
            "  astronaut-half.jpg",
            "  astronaut.png");
    }

    [Fact]
    public void Eval_OnALabelledFolder_PrintsLeaveOneOutMetrics()
    {
        // Three classes, each a photo and two copies of it: every copy's nearest other image is of its class.
        string labelled = Photos.TempFolder("labelled");
        try
        {
            foreach (int p in new[] { 0, 2, 4 })
            {
                string name = Path.GetFileNameWithoutExtension(Photos.Paths[p]);
                string folder = Directory.CreateDirectory(Path.Combine(labelled, name)).FullName;
                PixelImage image = Photos.Decode(Photos.Get(p));
                File.Copy(Photos.Get(p), Path.Combine(folder, Path.GetFileName(Photos.Paths[p])));
                Photos.WriteJpeg(Photos.HalfSize(image), Path.Combine(folder, "half.jpg"));
                Photos.WriteJpeg(Photos.Brighter(image, 20), Path.Combine(folder, "bright.jpg"));
            }
            ToolRunner.Result text = ToolRunner.Run("eval", labelled, "--recall", "1", "2");
            text.ExitCode.Should().Be(0, text.ToString());
            text.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().Equal(
                "Leave-one-out retrieval on 9 images in 3 classes (resnet18, 512-d, exact search, k = 2):",
                "  Precision@1   1.0000",
                "  MAP@R         1.0000",
                "  R-Precision   1.0000",
                "  Recall@1      1.0000",
                "  Recall@2      1.0000");

            ToolRunner.Result json = ToolRunner.Run("eval", labelled, "--json");
            using JsonDocument document = JsonDocument.Parse(json.Output);
            document.RootElement.GetProperty("images").GetInt32().Should().Be(9);
            document.RootElement.GetProperty("classes").GetInt32().Should().Be(3);
            document.RootElement.GetProperty("precisionAt1").GetDouble().Should().Be(1.0);
            document.RootElement.GetProperty("recallAtK").EnumerateObject().Select(p => p.Name).Should().Equal("1", "2", "4", "8");
        }
        finally
        {
            Directory.Delete(labelled, recursive: true);
        }
    }
}
