using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using DeepRetrieval.Bench;
using DeepRetrieval.Imaging;
using DeepRetrieval.Imaging.Processing;

// Decode + resize worker driven by pil_vs_imaging.py, which interleaves its rounds with PIL's in the same script.
// Usage: imaging-bench <pipeline> <size> <file>...   then one line per round on stdin ("round"); each answer is the
// wall-clock and CPU seconds one pass over all files took on this one thread. Pipelines:
//   full   decode at full size, PIL-exact antialiased bilinear resize to size × size, RGB out
//   draft  JPEG DCT-domain downscale first (PIL's Image.draft), then the same resize
var pipelineArgument = new Argument<string>("pipeline") { Description = "full (decode at full size, then resize) or draft (JPEG DCT-domain downscale first)" };
var sizeArgument = new Argument<int>("size") { Description = "Side of the square output in pixels" };
var filesArgument = new Argument<string[]>("files") { Description = "Images to decode, one pass over all of them per round", Arity = ArgumentArity.OneOrMore };
pipelineArgument.AcceptOnlyFromAmong("full", "draft");
sizeArgument.AtLeast(1);
var command = new RootCommand(
    "Decode + resize worker driven by pil_vs_imaging.py: after a warm-up pass prints \"ready\", then answers each \"round\" " +
    "line on stdin with the wall-clock and CPU seconds of one pass. Exit codes: 0 success, 1 run failure, 2 bad options.")
{
    pipelineArgument, sizeArgument, filesArgument,
};
command.SetAction(parse => Run(parse.GetRequiredValue(pipelineArgument) == "draft", parse.GetValue(sizeArgument), parse.GetRequiredValue(filesArgument)));
return BenchCommandLine.Invoke(command, args);

static int Run(bool draft, int size, string[] files)
{
    var options = new ImageDecodeOptions
    {
        Format = PixelFormat.Rgba32,
        ApplyExifOrientation = false,
        DraftSize = draft ? new ImageSize(size, size) : null,
    };

    long checksum = 0;
    var process = Process.GetCurrentProcess();
    double cpuSeconds = 0;
    double Pass()
    {
        process.Refresh();
        TimeSpan cpuStart = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        foreach (string file in files)
        {
            // RGBA keeps the resampler on its 4-lane path; the RGB result is packed at the end (224² pixels only). The
            // full-size decode stays in pooled memory.
            PixelImage rgb = ImageDecoder.Decode(file, options, image => image.Resize(size, size, ResizeFilter.Bilinear).ConvertTo(PixelFormat.Rgb24));
            checksum += rgb.Pixels[rgb.Pixels.Length / 2];
        }
        double wall = clock.Elapsed.TotalSeconds;
        process.Refresh();
        cpuSeconds = (process.TotalProcessorTime - cpuStart).TotalSeconds;
        return wall;
    }

    Pass(); // JIT warm-up, file cache
    Console.WriteLine("ready");
    while (Console.ReadLine() is { } line && line == "round")
    {
        double wall = Pass();
        Console.WriteLine(FormattableString.Invariant($"{wall:R} {cpuSeconds:R}"));
    }
    Console.Error.WriteLine($"checksum {checksum}");
    return 0;
}
