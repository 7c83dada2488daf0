using DeepRetrieval.Fuzz.Targets;

namespace DeepRetrieval.Fuzz;

/// <summary>Every fuzz target, one line each: a new loader is fuzzed by adding its target here.</summary>
internal static class FuzzTargets
{
    public static IReadOnlyList<IFuzzTarget> All { get; } =
    [
        new IndexFileTarget(),
        new AggregationTarget(),
        new IdxTarget(),
        new VecsTarget(),
        new NpyTarget(),
        new SafeTensorsTarget(),
        new TorchCheckpointTarget(),
        new RetrievalModelTarget(),
        new OnnxImportTarget(),
        new OnnxGraphTarget(),
        new ImageTarget(),
    ];

    public static IFuzzTarget Find(string name) =>
        All.FirstOrDefault(t => t.Name == name)
        ?? throw new ArgumentException($"Unknown fuzz target '{name}'. Targets: {string.Join(", ", All.Select(t => t.Name))}.", nameof(name));
}
