using System.Runtime.CompilerServices;
using System.Text;
using DeepRetrieval.Torch.Backbones;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Backbones;

/// <summary>
/// Reads the timm reference fixtures made by Fixtures/make_timm_fixtures.py: state-dict key lists and <c>.tensors</c>
/// files (named float32 tensors: a network's state dict, an input batch and timm's outputs for it).
/// </summary>
internal static class TimmReference
{
    /// <summary>Key → shape of every line "key d0,d1,..." of a key-list fixture.</summary>
    public static Dictionary<string, long[]> ReadKeys(string fileName) =>
        File.ReadAllLines(FindFixture(fileName))
            .Where(line => line.Length > 0)
            .Select(line => line.Split(' '))
            .ToDictionary(parts => parts[0], parts => parts.Length > 1 && parts[1].Length > 0 ? parts[1].Split(',').Select(long.Parse).ToArray() : []);

    /// <summary>Every tensor of a <c>.tensors</c> fixture, created in the caller's dispose scope.</summary>
    public static Dictionary<string, Tensor> ReadTensors(string fileName)
    {
        using var reader = new BinaryReader(File.OpenRead(FindFixture(fileName)), Encoding.UTF8);
        int count = reader.ReadInt32();
        var tensors = new Dictionary<string, Tensor>(count);
        for (int i = 0; i < count; i++)
        {
            string name = Encoding.UTF8.GetString(reader.ReadBytes(reader.ReadInt32()));
            var shape = new long[reader.ReadInt32()];
            for (int d = 0; d < shape.Length; d++)
                shape[d] = reader.ReadInt64();
            long length = shape.Aggregate(1L, (a, b) => a * b);
            var data = new float[length];
            for (long j = 0; j < length; j++)
                data[j] = reader.ReadSingle();
            tensors[name] = tensor(data, shape);
        }
        return tensors;
    }

    /// <summary>
    /// Copies the fixture's state dict into <paramref name="module"/> after checking that both have exactly the same keys
    /// and shapes, so a passing load means the module's names are timm's.
    /// </summary>
    public static void LoadStateDict(nn.Module module, IReadOnlyDictionary<string, Tensor> fixture)
    {
        var state = module.state_dict();
        var fixtureKeys = fixture.Keys.Where(k => k != "input" && k != "output" && !k.StartsWith("stage.", StringComparison.Ordinal)).ToHashSet();
        // Set differences rather than a collection equivalence, which compares every pair and takes seconds for 500 keys.
        state.Keys.Except(fixtureKeys).Should().BeEmpty("the module must have no key that timm lacks");
        fixtureKeys.Except(state.Keys).Should().BeEmpty("the module must have every key of timm's state dict");
        using var guard = no_grad();
        foreach (var (key, target) in state)
        {
            if (!target.shape.SequenceEqual(fixture[key].shape))
                throw new InvalidDataException($"{key}: shape [{string.Join(", ", target.shape)}], timm [{string.Join(", ", fixture[key].shape)}].");
            target.copy_(fixture[key].to(target.dtype));
        }
    }

    /// <summary>
    /// Loads the fixture's state dict into <paramref name="net"/> (see <see cref="LoadStateDict"/>), runs the fixture's input
    /// through it in eval mode, and checks every stage map named <c>stage.&lt;name&gt;</c> and the final map (<c>output</c>, timm's
    /// <c>forward_features</c>) against timm's, element by element within <c>atol + rtol·|timm|</c>.
    /// </summary>
    /// <returns>The largest absolute difference over all maps.</returns>
    public static double ShouldReproduceStages(Backbone net, IReadOnlyDictionary<string, Tensor> fixture, double rtol, double atol)
    {
        LoadStateDict(net, fixture);
        net.eval();
        var names = net.Stages.Select(s => s.Name).ToArray();
        // One pass: the last stage's map is forward's output (a Backbone invariant tested with SmallCnn).
        var maps = net.ForwardStages(fixture["input"], names);
        double worst = 0;
        void Compare(Tensor actual, Tensor expected, string what)
        {
            actual.shape.Should().Equal(expected.shape, what);
            worst = Math.Max(worst, (actual - expected).abs().max().item<float>());
            actual.allclose(expected, rtol: rtol, atol: atol).Should().BeTrue($"{what} must match timm's (largest difference {(actual - expected).abs().max().item<float>()})");
        }
        Compare(maps[^1], fixture["output"], "forward_features");
        for (int i = 0; i < names.Length; i++)
            Compare(maps[i], fixture[$"stage.{names[i]}"], names[i]);
        return worst;
    }

    private static string FindFixture(string fileName, [CallerFilePath] string sourceFile = "")
    {
        string[] relatives = [Path.Combine("Backbones", "Fixtures", fileName), Path.Combine("tests", "DeepRetrieval.Torch.Tests", "Backbones", "Fixtures", fileName)];
        foreach (string? start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(Path.GetDirectoryName(sourceFile)) })
        {
            for (string? dir = start; !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
            {
                foreach (string relative in relatives)
                {
                    string candidate = Path.Combine(dir, relative);
                    if (File.Exists(candidate))
                        return candidate;
                }
            }
        }
        throw new FileNotFoundException($"Fixture {fileName} not found above {AppContext.BaseDirectory} or next to {sourceFile}.");
    }
}
