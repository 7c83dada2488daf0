using BenchmarkDotNet.Running;

namespace DeepRetrieval.Benchmarks;

internal static class Program
{
    // Examples:
    //   dotnet run -c Release --project benchmarks/DeepRetrieval.Benchmarks -- --filter '*Distance*' --job short
    //   dotnet run -c Release --project benchmarks/DeepRetrieval.Benchmarks -- --filter '*TopK*'
    //   dotnet run -c Release --project benchmarks/DeepRetrieval.Benchmarks -- --filter '*FlatSearch*'
    //   dotnet run -c Release --project benchmarks/DeepRetrieval.Benchmarks -- --filter '*CoarseSearch*' --job short --inProcess
    private static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
