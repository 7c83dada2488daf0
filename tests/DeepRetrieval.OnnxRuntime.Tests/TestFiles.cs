using System.Reflection;
using DeepRetrieval.Data;

namespace DeepRetrieval.OnnxRuntime.Tests;

/// <summary>Where the tests' models, fixtures and photos are.</summary>
internal static class TestFiles
{
    /// <summary>The DnnImageModels folder of the Microsoft.ML.DnnImageFeaturizer.ResNet18 package (ResNet18Onnx/, ResNetPrepOnnx/).</summary>
    public static string DnnImageModels => typeof(TestFiles).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "DnnImageModels").Value!;

    /// <summary>A file written by Reference/make_fixtures.py.</summary>
    public static string Reference(string name) => Path.Combine(AppContext.BaseDirectory, "Reference", name);

    /// <summary>An .npy fixture's values.</summary>
    public static float[] Npy(string name) => NpyReader.Read(Reference(name)).Data;

    /// <summary>
    /// Photographs from Debian's mate-backgrounds package (installed by .ci/run): nature shots of 1–5 megapixels with different
    /// subjects (flowers, a ladybird, water, a meadow, sand).
    /// </summary>
    public static IReadOnlyList<string> Photos
    {
        get
        {
            const string folder = "/usr/share/backgrounds/mate/nature";
            string[] names = ["LadyBird.jpg", "FreshFlower.jpg", "GreenMeadow.jpg", "YellowFlower.jpg", "Aqua.jpg", "Dune.jpg"];
            string[] paths = names.Select(n => Path.Combine(folder, n)).ToArray();
            string? missing = paths.FirstOrDefault(p => !File.Exists(p));
            if (missing is not null)
                throw new FileNotFoundException($"Test photo '{missing}' is missing: install the Debian package mate-backgrounds (.ci/run does).", missing);
            return paths;
        }
    }
}
