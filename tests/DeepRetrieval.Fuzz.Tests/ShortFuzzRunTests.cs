using System.Text;

namespace DeepRetrieval.Fuzz.Tests;

/// <summary>
/// The short fuzzing run CI does: for every target, its seeds (files the library writes) and a fixed number of deterministic
/// mutations, repaired as the long run repairs them. Any exception other than the loader's documented one fails the test and
/// prints the input as Base64 so it can be replayed (<c>fuzz/run.sh replay</c>) and become a regression test. The counts keep
/// the whole run near a minute on two busy cores; the long runs (<c>fuzz/run.sh &lt;target&gt; [minutes]</c>) go much further.
/// </summary>
public sealed class ShortFuzzRunTests
{
    [Theory]
    [InlineData("index", 20_000)]
    [InlineData("aggregation", 5_000)]
    [InlineData("idx", 20_000)]
    [InlineData("vecs", 20_000)]
    [InlineData("npy", 20_000)]
    [InlineData("image", 20_000)]
    [InlineData("safetensors", 10_000)]
    [InlineData("pt", 5_000)]
    [InlineData("onnx", 10_000)]
    [InlineData("onnx-graph", 10_000)]
    [InlineData("retrieval-model", 400)]
    public void Target_RejectsMutatedInputsOnlyWithItsDocumentedException(string name, int inputs)
    {
        var target = FuzzTargets.Find(name);
        var summary = FuzzRunner.RunMutations(target, inputs, seed: 16, duration: TimeSpan.FromSeconds(20));
        summary.Inputs.Should().BeGreaterThan(Math.Min(inputs, 200), "the seeds load and the run is not stuck");
        // The ONNX seeds parse but are not ResNets, so the importer rejects every one of them (see the seed test).
        if (name != "onnx")
            summary.Accepted.Should().BeGreaterThan(0, "the seeds themselves are valid files");
        summary.Findings.Should().BeEmpty(Describe(summary));
    }

    [Fact]
    public void EveryTarget_IsInTheShortRun_AndLoadsAllItsSeeds()
    {
        var covered = typeof(ShortFuzzRunTests).GetMethod(nameof(Target_RejectsMutatedInputsOnlyWithItsDocumentedException))!
            .GetCustomAttributes(typeof(InlineDataAttribute), false).Cast<InlineDataAttribute>()
            .Select(a => (string)a.GetData(null!).Single()[0]);
        covered.Should().BeEquivalentTo(FuzzTargets.All.Select(t => t.Name));
        foreach (var target in FuzzTargets.All)
        {
            foreach (var (seedName, bytes) in target.CreateSeeds())
            {
                FuzzRunner.Execute(target, bytes, out bool accepted).Should().BeNull($"{target.Name}/{seedName} is a valid file");
                // The ONNX seeds are real PyTorch exports but small CNNs, not ResNets: they parse, then the importer rejects them.
                if (target.Name != "onnx")
                    accepted.Should().BeTrue($"{target.Name}/{seedName} is a file the library wrote, so it loads");
            }
        }
    }

    private static string Describe(FuzzRunSummary summary)
    {
        var text = new StringBuilder($"{summary.Target}: {summary.Inputs} inputs, findings:");
        foreach (var finding in summary.Findings)
            text.Append('\n').Append(finding.Problem).Append("\ninput (Base64): ").Append(Convert.ToBase64String(finding.Input));
        return text.ToString();
    }
}
