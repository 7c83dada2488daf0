using DeepRetrieval.Tests.Distances;

namespace DeepRetrieval.Tests;

/// <summary>
/// The test assembly's entry point. Test runners never call it; <see cref="KernelFallbackTests"/> starts the assembly as a
/// program with <c>kernel-snapshot</c> (and environment variables that switch hardware intrinsics off) to compute the same
/// kernel results the test computes in process.
/// </summary>
public static class TestProgram
{
    /// <summary>Writes <see cref="KernelSnapshot.Compute"/> to standard output for <c>kernel-snapshot</c>.</summary>
    /// <param name="args">The command line.</param>
    /// <returns>0, or 2 for an unknown command.</returns>
    public static int Main(string[] args)
    {
        if (args is ["kernel-snapshot"])
        {
            Console.Out.Write(KernelSnapshot.Compute());
            return 0;
        }
        Console.Error.WriteLine("usage: DeepRetrieval.Tests kernel-snapshot");
        return 2;
    }
}
