using DeepRetrieval.Data;
using DeepRetrieval.Datasets;

namespace DeepRetrieval.Tests.Data;

/// <summary>Runs alone because it changes a process-wide environment variable that other tests may read.</summary>
[Collection(FashionMnistEnvironmentCollection.Name)]
public sealed class FashionMnistEnvironmentTests
{
    [Fact]
    public void TryFindDefault_PrefersTheEnvironmentVariable()
    {
        using var dir = new TempDirectory();
        FashionMnistTests.WriteSynthetic(dir.Path, train: 2, test: 1, gzip: true);
        string? previous = Environment.GetEnvironmentVariable(FashionMnist.DirectoryEnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(FashionMnist.DirectoryEnvironmentVariable, dir.Path);
            FashionMnist.TryFindDefault(out string? found).Should().BeTrue();
            found.Should().Be(dir.Path);

            Environment.SetEnvironmentVariable(FashionMnist.DirectoryEnvironmentVariable, Path.Combine(dir.Path, "missing"));
            bool debian = FashionMnist.ContainsDataset(FashionMnist.DebianDirectory);
            FashionMnist.TryFindDefault(out found).Should().Be(debian);
            found.Should().Be(debian ? FashionMnist.DebianDirectory : null);
        }
        finally
        {
            Environment.SetEnvironmentVariable(FashionMnist.DirectoryEnvironmentVariable, previous);
        }
    }
}

/// <summary>The xunit collection for tests that change environment variables.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FashionMnistEnvironmentCollection
{
    /// <summary>The collection name.</summary>
    public const string Name = "Fashion-MNIST environment";
}
