using System.Runtime.CompilerServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Weights;

/// <summary>Finds the committed fixtures (made by Fixtures/make_fixtures.py) and mirrors the fixtures' tiny network.</summary>
internal static class WeightFixtures
{
    public static string Path(string name, [CallerFilePath] string sourceFile = "")
    {
        const string relative = "tests/DeepRetrieval.Torch.Tests/Weights/Fixtures";
        foreach (string? start in new[] { AppContext.BaseDirectory, System.IO.Path.GetDirectoryName(sourceFile) })
        {
            for (var dir = start is null ? null : new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                foreach (string candidate in new[] { System.IO.Path.Combine(dir.FullName, "Weights", "Fixtures", name), System.IO.Path.Combine(dir.FullName, relative, name), System.IO.Path.Combine(dir.FullName, "Fixtures", name) })
                {
                    if (File.Exists(candidate)) return candidate;
                }
            }
        }
        throw new FileNotFoundException($"Fixture {name} not found from {AppContext.BaseDirectory} or {sourceFile}.");
    }

    /// <summary>Same type, shape and values (exact).</summary>
    public static bool Same(Tensor a, Tensor b) =>
        a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    /// <summary>A temporary directory deleted on dispose.</summary>
    public sealed class TempDirectory : IDisposable
    {
        public string Root { get; } = Directory.CreateTempSubdirectory("dr-weights-").FullName;

        public string File(string name) => System.IO.Path.Combine(Root, name);

        public void Dispose() => Directory.Delete(Root, recursive: true);
    }
}

/// <summary>The network of make_fixtures.py: conv 3→4 (3 × 3, padding 1), batch norm, ReLU, global average, linear 4→2.</summary>
internal sealed class TinyNet : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly BatchNorm2d bn;
    private readonly Linear fc;

    public TinyNet(int fcOutputs = 2) : base(nameof(TinyNet))
    {
        conv = nn.Conv2d(3, 4, 3, padding: 1);
        bn = nn.BatchNorm2d(4);
        fc = nn.Linear(4, fcOutputs);
        RegisterComponents();
    }

    public Conv2d Conv => conv;

    public override Tensor forward(Tensor x) => fc.forward(nn.functional.relu(bn.forward(conv.forward(x))).mean([2, 3]));
}
