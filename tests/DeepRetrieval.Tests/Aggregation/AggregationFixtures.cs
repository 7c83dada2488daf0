using System.Runtime.CompilerServices;
using DeepRetrieval.Data;

namespace DeepRetrieval.Tests.Aggregation;

/// <summary>Arrays written by Reference/make_aggregation_fixtures.py (numpy, from the papers' formulas).</summary>
internal static class AggregationFixtures
{
    public static NpyArray Load(string name, [CallerFilePath] string sourceFile = "") =>
        NpyReader.Read(Path.Combine(Path.GetDirectoryName(sourceFile)!, "Fixtures", name + ".npy"));
}
