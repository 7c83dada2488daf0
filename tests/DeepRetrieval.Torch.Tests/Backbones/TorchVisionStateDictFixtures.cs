using System.Runtime.CompilerServices;
using TorchSharp;

namespace DeepRetrieval.Torch.Tests.Backbones;

/// <summary>
/// torchvision state-dict keys and shapes written by the Python scripts in Fixtures/ (found through the source path, as
/// FashionMnistTests finds its sample data), compared as "key shape" lines so the order of keys does not matter.
/// </summary>
internal static class TorchVisionStateDictFixtures
{
    public static IReadOnlyList<string> Expected(string architecture, [CallerFilePath] string sourceFile = "") =>
        File.ReadAllLines(Path.Combine(Path.GetDirectoryName(sourceFile)!, "Fixtures", architecture + ".keys.txt"))
            .Where(line => line.Length > 0).Select(line => line.TrimEnd()).Order(StringComparer.Ordinal).ToArray();

    public static IReadOnlyList<string> Actual(torch.nn.Module module) =>
        module.state_dict().Select(entry => $"{entry.Key} {string.Join("x", entry.Value.shape)}".TrimEnd()).Order(StringComparer.Ordinal).ToArray();
}
