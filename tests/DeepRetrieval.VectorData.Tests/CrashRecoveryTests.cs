using System.Diagnostics;
using System.Globalization;
using DeepRetrieval.VectorData.CrashHost;

namespace DeepRetrieval.VectorData.Tests;

/// <summary>
/// A child process upserts batches in a loop and prints an acknowledgement after each write returns; the test kills it with
/// SIGKILL at random points (mid-write, mid-checkpoint: the checkpoint threshold is small), reopens the collection and checks
/// that every acknowledged record is there, intact, and found by search. Five rounds, each continuing the same collection.
/// </summary>
public sealed class CrashRecoveryTests : IDisposable
{
    private const int BatchSize = 16;
    private const long CheckpointBytes = 24 * 1024;
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task KillingTheWriter_AtRandomPoints_LosesNoAcknowledgedRecord()
    {
        string host = Path.Combine(AppContext.BaseDirectory, "DeepRetrieval.VectorData.CrashHost.dll");
        File.Exists(host).Should().BeTrue("the crash host is built next to the tests");
        var random = new Random(20240601);
        var acknowledged = new HashSet<int>();
        int next = 0;

        for (int round = 0; round < 5; round++)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string arg in new[] { host, _folder.Path, next.ToString(CultureInfo.InvariantCulture), BatchSize.ToString(CultureInfo.InvariantCulture), CheckpointBytes.ToString(CultureInfo.InvariantCulture) })
                start.ArgumentList.Add(arg);
            using var child = Process.Start(start)!;
            Task<string> errors = child.StandardError.ReadToEndAsync();
            int wanted = random.Next(3, 40), seen = 0;
            try
            {
                (await ReadLineAsync(child, errors)).Should().Be("READY");
                while (seen < wanted)
                {
                    Acknowledge(await ReadLineAsync(child, errors), acknowledged);
                    seen++;
                }
                // Let it run on for a random moment so the kill lands anywhere in a write or a checkpoint.
                Thread.SpinWait(random.Next(0, 2_000_000));
            }
            finally
            {
                child.Kill(); // SIGKILL on Linux: no finally blocks, no flush, no checkpoint on close
                await child.WaitForExitAsync();
            }
            // Acknowledgements printed before the kill count too.
            foreach (string line in (await child.StandardOutput.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                Acknowledge(line, acknowledged);

            acknowledged.Should().NotBeEmpty();
            await VerifyAsync(acknowledged);
            next = acknowledged.Max() + 1;
        }
    }

    private async Task VerifyAsync(HashSet<int> acknowledged)
    {
        using var store = new DeepRetrievalVectorStore(_folder.Path);
        using var collection = store.GetCollection<long, CrashRecord>(CrashRecord.CollectionName);
        var stored = await collection.GetAsync(acknowledged.Select(n => (long)n), new() { IncludeVectors = true }).ToListAsync();

        stored.Select(r => (int)r.Id).Should().BeEquivalentTo(acknowledged, "every acknowledged record must survive the kill");
        foreach (CrashRecord record in stored)
        {
            CrashRecord expected = CrashRecord.Create((int)record.Id);
            record.Label.Should().Be(expected.Label);
            record.Tags.Should().Equal(expected.Tags);
            record.Vector.ToArray().Should().Equal(expected.Vector.ToArray());
        }
        int probe = acknowledged.Max();
        var hit = await collection.SearchAsync(CrashRecord.VectorOf(probe), top: 1).SingleAsync();
        hit.Record.Id.Should().Be(probe);
        hit.Score.Should().Be(0);
    }

    private static void Acknowledge(string line, HashSet<int> acknowledged)
    {
        string[] parts = line.Trim().Split(' ');
        if (parts.Length != 3 || parts[0] != "ACK") return; // a line cut by the kill was never a whole acknowledgement
        int first = int.Parse(parts[1], CultureInfo.InvariantCulture), last = int.Parse(parts[2], CultureInfo.InvariantCulture);
        for (int n = first; n <= last; n++) acknowledged.Add(n);
    }

    private static async Task<string> ReadLineAsync(Process child, Task<string> errors)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        string? line = await child.StandardOutput.ReadLineAsync(timeout.Token);
        if (line is null)
        {
            await child.WaitForExitAsync(timeout.Token);
            throw new InvalidOperationException($"The crash host exited with {child.ExitCode}: {await errors}");
        }
        return line;
    }
}
