using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

namespace DeepRetrieval.Orleans.Tests;

/// <summary>The sample search service as a user starts it: one silo with localhost clustering and file storage, driven over HTTP.</summary>
public sealed class SearchServiceSampleTests
{
    [Fact]
    public async Task TheSample_UpsertsSearchesGetsAndDeletes_OverHttp()
    {
        string folder = Directory.CreateTempSubdirectory("deepretrieval-sample-").FullName;
        int http = FreePort(), silo = FreePort(), gateway = FreePort();
        string dll = SampleDll();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Path.GetDirectoryName(dll)! };
        foreach (string arg in new[] { dll, "--urls", $"http://127.0.0.1:{http}", $"--Cluster:SiloPort={silo}", $"--Cluster:GatewayPort={gateway}",
                     $"--Cluster:PrimarySiloPort={silo}", $"--Cluster:Folder={folder}", $"--Cluster:ClusterId=sample-{Guid.NewGuid():N}" })
            start.ArgumentList.Add(arg);
        using Process process = Process.Start(start)!;
        var log = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http}"), Timeout = TimeSpan.FromSeconds(30) };
            await WaitUntilListeningAsync(client, process, log);
            (await client.PutAsync("/collections/photos", null)).StatusCode.Should().Be(HttpStatusCode.NoContent);
            var items = new object[]
            {
                new { id = 1, title = "beach", tags = new[] { "summer" }, embedding = new[] { 1f, 0, 0, 0 } },
                new { id = 2, title = "dunes", tags = new[] { "summer" }, embedding = new[] { 0.9f, 0.1f, 0, 0 } },
                new { id = 3, title = "glacier", tags = new[] { "winter" }, embedding = new[] { 0f, 0, 1, 0 } },
            };
            (await client.PostAsJsonAsync("/collections/photos/items", items)).EnsureSuccessStatusCode();

            var hits = await PostAsync(client, "/collections/photos/search", new { vector = new[] { 1f, 0.05f, 0, 0 }, top = 2 });
            hits.Select(h => h.GetProperty("id").GetInt64()).Should().Equal(1, 2);
            var winter = await PostAsync(client, "/collections/photos/search", new { vector = new[] { 1f, 0, 0, 0 }, top = 5, tag = "winter" });
            winter.Select(h => h.GetProperty("title").GetString()).Should().Equal("glacier");

            (await client.GetFromJsonAsync<JsonElement>("/collections/photos/items/3")).GetProperty("title").GetString().Should().Be("glacier");
            (await client.DeleteAsync("/collections/photos/items/3")).StatusCode.Should().Be(HttpStatusCode.NoContent);
            (await client.GetAsync("/collections/photos/items/3")).StatusCode.Should().Be(HttpStatusCode.NotFound);

            var bad = await client.PostAsJsonAsync("/collections/photos/search", new { vector = new[] { 1f, 0 }, top = 2 });
            bad.StatusCode.Should().Be(HttpStatusCode.BadRequest);
            (await bad.Content.ReadAsStringAsync()).Should().Contain("2 dimensions");
            (await client.PostAsync("/collections/photos/search/image", new ByteArrayContent([0xFF, 0xD8]))).StatusCode.Should().Be(HttpStatusCode.NotImplemented);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<List<JsonElement>> PostAsync(HttpClient client, string path, object body)
    {
        HttpResponseMessage response = await client.PostAsJsonAsync(path, body);
        string text = await response.Content.ReadAsStringAsync();
        response.IsSuccessStatusCode.Should().BeTrue(text);
        return JsonDocument.Parse(text).RootElement.EnumerateArray().ToList();
    }

    private static async Task WaitUntilListeningAsync(HttpClient client, Process process, System.Text.StringBuilder log)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"The sample exited with code {process.ExitCode}:\n{log}");
            try
            {
                await client.GetAsync("/collections/none/items/1");
                return;
            }
            catch (HttpRequestException) when (deadline.Elapsed < TimeSpan.FromSeconds(90))
            {
                await Task.Delay(250);
            }
        }
    }

    // The sample's own build output, next to this test assembly's (same configuration).
    private static string SampleDll()
    {
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "samples", "DeepRetrieval.Samples.SearchService", "bin", configuration, "net10.0", "search-service.dll");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("The sample search-service.dll was not built next to the tests.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
