using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using DeepRetrieval.Bench;

namespace DeepRetrieval.OnnxBench;

/// <summary>The benchmark's command line (System.CommandLine) and the options it yields.</summary>
internal sealed record BenchOptions
{
    public required IReadOnlyList<int> Threads { get; init; }
    public required IReadOnlyList<int> Batches { get; init; }
    public int Rounds { get; init; }
    public int Images { get; init; }
    public bool Tune { get; init; }
    public bool MlNet { get; init; }
    public bool TorchWithoutIsaCap { get; init; }
    public bool TorchPassiveWait { get; init; }
    public required string Python { get; init; }
    public required string PhotoFolder { get; init; }

    private static readonly Option<int[]> ThreadsOption = new("--threads")
    {
        Description = "Intra-op threads for both sides, comma-separated (each value is one configuration)",
        DefaultValueFactory = _ => [1, 2],
        CustomParser = PositiveList,
    };
    private static readonly Option<int[]> BatchesOption = new("--batches")
    {
        Description = "Images per inference run for both sides, comma-separated",
        DefaultValueFactory = _ => [1, 8],
        CustomParser = PositiveList,
    };
    private static readonly Option<int> RoundsOption = new("--rounds") { Description = "Timed rounds per configuration; every contender runs once per round, in rotated order", DefaultValueFactory = _ => 6 };
    private static readonly Option<int> ImagesOption = new("--images") { Description = "Images embedded per contender per round", DefaultValueFactory = _ => 16 };
    private static readonly Option<bool> TuneOption = new("--tune") { Description = "Also time ONNX Runtime variants (spinning on, graph optimisation level, memory arena, plain API)" };
    private static readonly Option<bool> MlNetOption = new("--mlnet") { Description = "Also time ML.NET's ResNet18.onnx (CNTK export, fixed batch of 1) through the embedder with GeM" };
    private static readonly Option<bool> UncappedOption = new("--torch-uncapped") { Description = "Also time PyTorch without DNNL_MAX_CPU_ISA=AVX (inference only; training needs the cap here)" };
    private static readonly Option<bool> PassiveOption = new("--torch-passive") { Description = "Also time PyTorch with OMP_WAIT_POLICY=PASSIVE (its threads sleep instead of spinning)" };
    private static readonly Option<string> PythonOption = new("--python") { Description = "Python with torch and torchvision (Debian's by default)", DefaultValueFactory = _ => "/usr/bin/python3" };
    private static readonly Option<string> PhotosOption = new("--photos") { Description = "Folder of JPEG photos to preprocess", DefaultValueFactory = _ => "/usr/share/backgrounds/mate/nature" };

    /// <summary>The root command: every option, its validation, and <paramref name="run"/> as its action.</summary>
    public static RootCommand CreateCommand(Func<BenchOptions, int> run)
    {
        var command = new RootCommand(
            "ResNet-18 embedding throughput: the ONNX Runtime embedder against PyTorch (torchvision's resnet18, same weights " +
            "exported to ONNX), same batch size and threads, rounds interleaved. Exit codes: 0 success, 1 run failure, 2 bad options.")
        {
            ThreadsOption, BatchesOption, RoundsOption, ImagesOption, TuneOption, MlNetOption, UncappedOption, PassiveOption, PythonOption, PhotosOption,
        };
        RoundsOption.AtLeast(1);
        ImagesOption.AtLeast(1);
        command.SetAction(parse => run(new BenchOptions
        {
            Threads = parse.GetRequiredValue(ThreadsOption),
            Batches = parse.GetRequiredValue(BatchesOption),
            Rounds = parse.GetValue(RoundsOption),
            Images = parse.GetValue(ImagesOption),
            Tune = parse.GetValue(TuneOption),
            MlNet = parse.GetValue(MlNetOption),
            TorchWithoutIsaCap = parse.GetValue(UncappedOption),
            TorchPassiveWait = parse.GetValue(PassiveOption),
            Python = parse.GetRequiredValue(PythonOption),
            PhotoFolder = parse.GetRequiredValue(PhotosOption),
        }));
        return command;
    }

    // "1,2,4" → [1, 2, 4]; every entry a positive integer.
    private static int[] PositiveList(ArgumentResult result)
    {
        string text = result.Tokens[^1].Value;
        var values = new List<int>();
        foreach (string part in text.Split(','))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < 1)
            {
                result.AddError($"{((OptionResult)result.Parent!).Option.Name} takes comma-separated positive integers; \"{part}\" in \"{text}\" is not one.");
                return [];
            }
            values.Add(value);
        }
        return [.. values];
    }
}
