using System.Diagnostics;
using System.Text.Json;
using DeepRetrieval.Imaging.Features;

namespace DeepRetrieval.ClassicalBench;

/// <summary>
/// SIFT detectAndCompute on one thread, ours and OpenCV's side by side: rounds alternate between this process and an
/// OpenCV process (opencv_peer.py serve) over the same images, and the per-round ratio of the totals is reported with
/// its spread. Both thread CPU time (what the code costs, robust to other jobs on the machine) and wall time are kept.
/// </summary>
internal static class SpeedBench
{
    public static void Run(BenchData data, int rounds, int warmup)
    {
        string[] images = data.Database;
        using var peer = Process.Start(new ProcessStartInfo("/usr/bin/python3", [Path.Combine(AppContext.BaseDirectory, "opencv_peer.py"), "serve", data.Directory])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("Could not start the OpenCV peer.");
        var sift = new Sift(new SiftOptions { MaxDegreeOfParallelism = 1 });
        var ratiosCpu = new List<double>();
        var ratiosWall = new List<double>();
        var oursCpu = new List<double>();
        var opencvCpu = new List<double>();
        // Per image and round: our thread CPU over OpenCV's, for the distribution over images.
        var perImage = images.ToDictionary(name => name, _ => new List<double>());
        int oursKeypoints = 0, opencvKeypoints = 0;
        for (int round = 0; round < warmup + rounds; round++)
        {
            // Alternate which side goes first, so neither always runs right after the other's cache footprint.
            (double Cpu, double Wall, int Keypoints, double[] PerImage) mine = default, theirs = default;
            if (round % 2 == 0)
            {
                mine = Ours(sift, data, images);
                theirs = OpenCv(peer, images);
            }
            else
            {
                theirs = OpenCv(peer, images);
                mine = Ours(sift, data, images);
            }
            if (round < warmup) continue;
            ratiosCpu.Add(mine.Cpu / theirs.Cpu);
            ratiosWall.Add(mine.Wall / theirs.Wall);
            oursCpu.Add(mine.Cpu);
            opencvCpu.Add(theirs.Cpu);
            for (int i = 0; i < images.Length; i++) perImage[images[i]].Add(mine.PerImage[i] / theirs.PerImage[i]);
            oursKeypoints = mine.Keypoints;
            opencvKeypoints = theirs.Keypoints;
        }
        peer.StandardInput.Close();
        peer.WaitForExit();

        Console.WriteLine($"## SIFT detectAndCompute speed, one thread, {images.Length} photos at 640 px, {rounds} interleaved rounds after {warmup} warm-up rounds");
        Console.WriteLine($"keypoints per round: ours {oursKeypoints}, OpenCV {opencvKeypoints}");
        Console.WriteLine($"thread CPU per image: ours median {Statistics.Median(oursCpu) / images.Length:F1} ms, OpenCV median {Statistics.Median(opencvCpu) / images.Length:F1} ms");
        Console.WriteLine($"ours / OpenCV (thread CPU): median {Statistics.Median(ratiosCpu):F3}, quartiles {Statistics.Quantile(ratiosCpu, 0.25):F3}–{Statistics.Quantile(ratiosCpu, 0.75):F3}, range {ratiosCpu.Min():F3}–{ratiosCpu.Max():F3}");
        double[] imageRatios = images.Select(name => Statistics.Median(perImage[name])).ToArray();
        Console.WriteLine($"per image (median over rounds of ours / OpenCV, thread CPU): median over images {Statistics.Median(imageRatios):F3}, range {imageRatios.Min():F3} ({images[Array.IndexOf(imageRatios, imageRatios.Min())]})–{imageRatios.Max():F3} ({images[Array.IndexOf(imageRatios, imageRatios.Max())]})");
        Console.WriteLine($"ours / OpenCV (wall):       median {Statistics.Median(ratiosWall):F3}, quartiles {Statistics.Quantile(ratiosWall, 0.25):F3}–{Statistics.Quantile(ratiosWall, 0.75):F3}, range {ratiosWall.Min():F3}–{ratiosWall.Max():F3}");
        Console.WriteLine($"load average at the end: {File.ReadAllText("/proc/loadavg").Trim()}");
    }

    private static (double Cpu, double Wall, int Keypoints, double[] PerImage) Ours(Sift sift, BenchData data, string[] images)
    {
        double cpu = 0, wall = 0;
        int keypoints = 0;
        var perImage = new double[images.Length];
        for (int i = 0; i < images.Length; i++)
        {
            BenchData.Image image = data.Read(images[i]);
            long start = Stopwatch.GetTimestamp();
            double startCpu = ThreadClock.Milliseconds();
            LocalFeatures features = sift.DetectAndCompute(image.Pixels, image.Width, image.Height);
            perImage[i] = ThreadClock.Milliseconds() - startCpu;
            cpu += perImage[i];
            wall += Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            keypoints += features.Count;
        }
        return (cpu, wall, keypoints, perImage);
    }

    private static (double Cpu, double Wall, int Keypoints, double[] PerImage) OpenCv(Process peer, string[] images)
    {
        peer.StandardInput.WriteLine(string.Join(' ', images));
        peer.StandardInput.Flush();
        string line = peer.StandardOutput.ReadLine() ?? throw new InvalidOperationException("The OpenCV peer stopped.");
        using var document = JsonDocument.Parse(line);
        double cpu = 0, wall = 0;
        int keypoints = 0;
        var perImage = new List<double>();
        foreach (JsonElement e in document.RootElement.EnumerateArray())
        {
            perImage.Add(e.GetProperty("cpu_ms").GetDouble());
            cpu += e.GetProperty("cpu_ms").GetDouble();
            wall += e.GetProperty("wall_ms").GetDouble();
            keypoints += e.GetProperty("keypoints").GetInt32();
        }
        return (cpu, wall, keypoints, [.. perImage]);
    }
}
