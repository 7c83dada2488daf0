using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;

namespace DeepRetrieval.Tests.Distances;

/// <summary>
/// Every vectorised kernel gives the same results when the CPU's wider instructions are switched off (as on a CPU
/// without AVX-512 or AVX2, or on ARM64, where the x86 paths are absent and only <see cref="Vector128"/> or scalar code
/// runs): the test assembly is started again as a program (<see cref="TestProgram"/>) with the runtime's
/// <c>DOTNET_Enable…=0</c> switches, computes <see cref="KernelSnapshot"/> there, and the values must match those
/// computed here — bit for bit where the inputs make every sum exact, within the stated tolerance elsewhere.
/// </summary>
public class KernelFallbackTests
{
    private static readonly Lazy<Dictionary<string, (double Tolerance, double[] Values)>> Here = new(() => Parse(KernelSnapshot.Compute()));

    [Theory]
    [InlineData("DOTNET_EnableAVX512", 0)] // .NET 10's one switch for the AVX-512 family (it replaced EnableAVX512F)
    [InlineData("DOTNET_EnableAVX2", 1)]
    [InlineData("DOTNET_EnableHWIntrinsic", 2)]
    public void Kernels_GiveTheSameResults_WithTheWiderInstructionsSwitchedOff(string variable, int isaOff)
    {
        Dictionary<string, (double Tolerance, double[] Values)> there = Parse(RunChild(variable));

        // The switch took effect: the width it removes (and every wider one) is not accelerated in the child.
        double[] isa = there["isa"].Values;
        for (int width = 0; width <= isaOff; width++) isa[width].Should().Be(0, $"{variable}=0 must switch off the {512 >> width}-bit vectors");

        there.Keys.Should().BeEquivalentTo(Here.Value.Keys);
        foreach ((string name, (double tolerance, double[] expected)) in Here.Value)
        {
            if (name == "isa") continue;
            double[] actual = there[name].Values;
            actual.Length.Should().Be(expected.Length, name);
            for (int i = 0; i < expected.Length; i++)
            {
                if (tolerance == 0)
                    BitConverter.DoubleToInt64Bits(actual[i]).Should().Be(BitConverter.DoubleToInt64Bits(expected[i]), $"{name}[{i}] must be bit-identical ({expected[i]} here, {actual[i]} without {variable})");
                else
                    actual[i].Should().BeApproximately(expected[i], tolerance * Math.Max(1, Math.Abs(expected[i])), $"{name}[{i}]");
            }
        }
    }

    [Fact]
    public void Snapshot_RunsTheVectorPathsHere()
    {
        // On this CI machine (x86 with AVX-512) the in-process snapshot takes the widest paths; elsewhere at least
        // Vector128 (ARM64's NEON) is accelerated. The comparison above is only meaningful if the two differ.
        Here.Value["isa"].Values[2].Should().Be(1);
    }

    private static string RunChild(string variable)
    {
        string assembly = typeof(KernelSnapshot).Assembly.Location;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(assembly);
        start.ArgumentList.Add("kernel-snapshot");
        start.Environment[variable] = "0";
        using Process child = Process.Start(start)!;
        Task<string> output = child.StandardOutput.ReadToEndAsync();
        Task<string> error = child.StandardError.ReadToEndAsync();
        child.WaitForExit(TimeSpan.FromMinutes(5)).Should().BeTrue("the child process must finish");
        child.ExitCode.Should().Be(0, error.Result);
        return output.Result;
    }

    private static Dictionary<string, (double Tolerance, double[] Values)> Parse(string snapshot)
    {
        var lines = new Dictionary<string, (double, double[])>();
        foreach (string line in snapshot.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] parts = line.Split('\t');
            double[] values = parts[2].Length == 0 ? [] : parts[2].Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            lines.Add(parts[0], (double.Parse(parts[1], CultureInfo.InvariantCulture), values));
        }
        return lines;
    }
}
