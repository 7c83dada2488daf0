using System.CommandLine;
using DeepRetrieval.Bench;
using DeepRetrieval.Torch.Backbones;

namespace DeepRetrieval.TrainingBench;

/// <summary>The benchmark's command line (System.CommandLine) and the settings it yields.</summary>
internal sealed record Settings
{
    public required string Model { get; init; }
    public int Batch { get; init; }
    public int Threads { get; init; }
    public bool Draft { get; init; }
    public int Epochs { get; init; }
    public bool DataOnly { get; init; }
    public required IReadOnlyList<string> Folders { get; init; }

    private static readonly Option<string> ModelOption = new("--model") { Description = "Backbone from the registry (resnet18, small_cnn, ...)", DefaultValueFactory = _ => "resnet18" };
    private static readonly Option<int> BatchOption = new("--batch") { Description = "Images per batch (at least 2: the triplet miner needs pairs)", DefaultValueFactory = _ => 16 };
    private static readonly Option<int> ThreadsOption = new("--threads") { Description = "Decoding threads", DefaultValueFactory = _ => Environment.ProcessorCount };
    private static readonly Option<bool> DraftOption = new("--draft") { Description = "Decode JPEGs at a reduced scale (PIL's draft mode) before resizing" };
    private static readonly Option<int> EpochsOption = new("--epochs") { Description = "Epochs to stream", DefaultValueFactory = _ => 1 };
    private static readonly Option<bool> DataOnlyOption = new("--data-only") { Description = "Read the augmented batches without a model (the data pipeline's own rate)" };
    private static readonly Argument<string[]> FoldersArgument = new("folders")
    {
        Description = "Folders of theme folders of photos (an image's class is its theme folder)",
        Arity = ArgumentArity.ZeroOrMore,
        DefaultValueFactory = _ => ["/usr/share/backgrounds", "/usr/share/wallpapers"],
    };

    /// <summary>The root command: every option, its validation, and <paramref name="run"/> as its action.</summary>
    public static RootCommand CreateCommand(Func<Settings, int> run)
    {
        var command = new RootCommand(
            "Streams training epochs from a folder of real photos (decode, shorter side to 256, RandomResizedCrop(224), flip on the " +
            "decoding threads) and reports images/s and peak memory. Exit codes: 0 success, 1 run failure, 2 bad options.")
        {
            ModelOption, BatchOption, ThreadsOption, DraftOption, EpochsOption, DataOnlyOption, FoldersArgument,
        };
        ModelOption.Validators.Add(result =>
        {
            string name = result.GetValueOrDefault<string>();
            if (!BackboneRegistry.Contains(name))
                result.AddError($"--model {name} is not a registered backbone; use one of {string.Join(", ", BackboneRegistry.Names)}.");
        });
        BatchOption.AtLeast(2);
        ThreadsOption.AtLeast(1);
        EpochsOption.AtLeast(1);
        command.SetAction(parse => run(new Settings
        {
            Model = parse.GetRequiredValue(ModelOption),
            Batch = parse.GetValue(BatchOption),
            Threads = parse.GetValue(ThreadsOption),
            Draft = parse.GetValue(DraftOption),
            Epochs = parse.GetValue(EpochsOption),
            DataOnly = parse.GetValue(DataOnlyOption),
            Folders = parse.GetRequiredValue(FoldersArgument) is { Length: > 0 } folders ? folders : ["/usr/share/backgrounds", "/usr/share/wallpapers"],
        }));
        return command;
    }
}
