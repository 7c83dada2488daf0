using System.Text.Json;

namespace DeepRetrieval.Packaging.Tests;

/// <summary>The packages as a user meets them: a new console app references them from a feed, builds and runs.</summary>
[Collection(PackedCollection.Name)]
public sealed class FreshConsoleAppTests(PackedPackages packages)
{
    [Fact]
    public void AVectorOnlyApp_RestoresNoNativeCode_AndFindsTheNearestVector()
    {
        string app = Directory.CreateTempSubdirectory("deepretrieval-app-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(app, "App.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <Nullable>enable</Nullable>
                    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="DeepRetrieval" Version="{packages.Version}" />
                  </ItemGroup>
                </Project>
                """);
            WriteFeedConfig(app);
            File.WriteAllText(Path.Combine(app, "Program.cs"), """
                using DeepRetrieval;
                using DeepRetrieval.Indexes;
                using DeepRetrieval.Persistence;

                float[] gallery = [0, 0, 10, 0, 0, 10, 7, 7];          // four 2-d points, ids 0..3
                IVectorIndex index = IndexFactory.Create(2, "Flat", Metric.L2);
                index.Add(gallery);
                string file = Path.Combine(Path.GetTempPath(), $"app-{Guid.NewGuid():N}.drix");
                IndexFile.Save(index, file);
                IVectorIndex loaded = IndexFile.Load(file);
                File.Delete(file);
                SearchResult hits = loaded.Search(new float[] { 6, 8 }, k: 2);
                Console.WriteLine($"nearest {hits.IdsOf(0)[0]} then {hits.IdsOf(0)[1]}");
                """);
            var (code, output) = ProcessRunner.Run("dotnet", "run -c Release", app, TimeSpan.FromMinutes(6));
            code.Should().Be(0, output);
            output.Should().Contain("nearest 3 then 2");

            string assets = File.ReadAllText(Path.Combine(app, "obj", "project.assets.json"));
            using JsonDocument json = JsonDocument.Parse(assets);
            string[] libraries = json.RootElement.GetProperty("libraries").EnumerateObject().Select(p => p.Name.Split('/')[0]).ToArray();
            libraries.Should().Contain("DeepRetrieval");
            libraries.Should().NotContain(l => l.StartsWith("TorchSharp", StringComparison.OrdinalIgnoreCase)
                || l.StartsWith("libtorch", StringComparison.OrdinalIgnoreCase)
                || l.StartsWith("SkiaSharp", StringComparison.OrdinalIgnoreCase)
                || l.StartsWith("Microsoft.ML.OnnxRuntime", StringComparison.OrdinalIgnoreCase),
                "an app that only searches vectors must not pull libtorch or native image code");
        }
        finally
        {
            Directory.Delete(app, recursive: true);
        }
    }

    private void WriteFeedConfig(string app) =>
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="deepretrieval-packed" value="{packages.Feed}" />
              </packageSources>
            </configuration>
            """);
}
