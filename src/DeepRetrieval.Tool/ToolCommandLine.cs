using System.CommandLine;
using DeepRetrieval.Tool.Commands;
using DeepRetrieval.Tool.Console;
using DeepRetrieval.Tool.Embedding;

namespace DeepRetrieval.Tool;

/// <summary>The <c>deepretrieval</c> command line (System.CommandLine): parsing, the four commands, and turning failures into one line and an exit code.</summary>
internal static class ToolCommandLine
{
    /// <summary>Runs the tool with <paramref name="args"/> (the process's entry point, and the tests', in-process).</summary>
    /// <param name="args">The arguments.</param>
    /// <param name="console">Where results, errors and progress go.</param>
    /// <param name="cancellationToken">Ctrl+C: an index run saves what it embedded and exits with 130.</param>
    /// <returns>The exit code (<see cref="ExitCodes"/>).</returns>
    public static async Task<int> RunAsync(string[] args, ToolConsole console, CancellationToken cancellationToken)
    {
        RootCommand root = Build(console);
        ParseResult parsed = root.Parse(args);
        var invocation = new InvocationConfiguration
        {
            Output = console.Output,
            Error = console.Error,
            EnableDefaultExceptionHandler = false,
            // Ctrl+C is the caller's token (Program wires it), so the commands can save before exiting.
            ProcessTerminationTimeout = null,
        };
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
                await console.Error.WriteLineAsync($"error: {error.Message}").ConfigureAwait(false);
            await console.Error.WriteLineAsync("Run 'deepretrieval --help' (or '<command> --help') for usage.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        try
        {
            return await parsed.InvokeAsync(invocation, cancellationToken).ConfigureAwait(false);
        }
        catch (ToolError e)
        {
            await console.Error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
            return e.ExitCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await console.Error.WriteLineAsync("error: interrupted.").ConfigureAwait(false);
            return ExitCodes.Interrupted;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await console.Error.WriteLineAsync($"error: {ModelLoader.OneLine(e.Message)}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            await console.Error.WriteLineAsync($"error: unexpected {e.GetType().Name}: {ModelLoader.OneLine(e.Message)}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
    }

    private static RootCommand Build(ToolConsole console)
    {
        var modelOption = new Option<string?>("--model")
        {
            Description = $"An .onnx image model, a retrieval model saved by DeepRetrieval.Torch (.safetensors), a backbone name (resnet50, efficientnet_b0, vit_small_patch16_224 ...; " +
                $"TorchSharp with a libtorch found at run time), or {ModelLoader.BuiltIn} (default: ML.NET's ImageNet ResNet-18, shipped with the tool, GeM-pooled)",
        };
        var weightsOption = new Option<string?>("--weights")
        {
            Description = $"A backbone's weights: a .safetensors or .pth file (default: its pretrained weights, downloaded once into the cache), or '{TorchModels.RandomWeights}' for a randomly initialised network",
        };
        var outputOption = new Option<string?>("--output") { Description = "The ONNX graph value to embed: an output or an intermediate feature map (default: the first output)" };
        var poolingOption = new Option<string?>("--pooling") { Description = "Pooling of a feature map: GeM(p=3) (default), MAC, SPoC, R-MAC for ONNX; gem, mac, spoc, rmac ... for a backbone name" };
        var threadsOption = new Option<int?>("--threads") { Description = "Threads for decoding and the model (default: all cores)" };
        var jsonOption = new Option<bool>("--json") { Description = "Print JSON instead of text" };
        ModelLoader.ModelChoice Model(ParseResult r) => new(r.GetValue(modelOption), r.GetValue(outputOption), r.GetValue(poolingOption), r.GetValue(weightsOption));

        // index
        var folderArgument = new Argument<string>("folder") { Description = "The folder of images (searched recursively)" };
        var outOption = new Option<string>("--out") { Description = "The gallery folder to create or update", Required = true };
        var indexOption = new Option<string>("--index") { Description = "Index description (IndexFactory): HNSW32, Flat, IVF256,PQ16 ...", DefaultValueFactory = _ => "HNSW32" };
        var flipOption = new Option<bool>("--flip") { Description = "Test-time augmentation: also embed each image mirrored and average" };
        var exactOption = new Option<bool>("--exact-decode") { Description = "Decode JPEGs at full size (slower; default decodes large JPEGs at 1/2–1/8 scale, at least twice the model's input)" };
        var batchOption = new Option<int>("--batch-size") { Description = "Images per model run", DefaultValueFactory = _ => 16 };
        var checkpointOption = new Option<int>("--checkpoint-every") { Description = "Save the gallery every N new images (an interrupted run resumes from there)", DefaultValueFactory = _ => 500 };
        var index = new Command("index", "Embed every image of a folder into a gallery; re-running adds new and changed files and removes deleted ones")
        {
            folderArgument, outOption, modelOption, weightsOption, outputOption, poolingOption, indexOption, flipOption, exactOption, batchOption, checkpointOption, threadsOption,
        };
        index.SetAction((r, token) =>
        {
            int batch = r.GetValue(batchOption), every = r.GetValue(checkpointOption);
            if (batch < 1) throw new ToolError($"--batch-size must be at least 1; got {batch}.");
            if (every < 1) throw new ToolError($"--checkpoint-every must be at least 1; got {every}.");
            CheckThreads(r.GetValue(threadsOption));
            return IndexCommand.RunAsync(new IndexCommand.IndexSettings(r.GetValue(folderArgument)!, r.GetValue(outOption)!, Model(r), r.GetValue(indexOption)!,
                r.GetValue(flipOption), r.GetValue(exactOption), batch, r.GetValue(threadsOption), every), console, token);
        });

        // search
        var galleryArgument = new Argument<string>("gallery") { Description = "A gallery made by 'deepretrieval index'" };
        var imagesArgument = new Argument<string[]>("image") { Description = "Query images", Arity = ArgumentArity.OneOrMore };
        var kOption = new Option<int>("--k") { Description = "Results per query", DefaultValueFactory = _ => 10 };
        var gridOption = new Option<string?>("--grid") { Description = "Also draw the queries and their results into this PNG" };
        var search = new Command("search", "Find the gallery images most similar to each query image")
        {
            galleryArgument, imagesArgument, kOption, jsonOption, gridOption, threadsOption,
        };
        search.SetAction((r, token) =>
        {
            CheckThreads(r.GetValue(threadsOption));
            return SearchCommand.RunAsync(new SearchCommand.SearchSettings(r.GetValue(galleryArgument)!, r.GetValue(imagesArgument)!, r.GetValue(kOption),
                r.GetValue(jsonOption), r.GetValue(gridOption), r.GetValue(threadsOption)), console, token);
        });

        // dedup
        var sourceArgument = new Argument<string>("path") { Description = "A folder of images or a gallery" };
        var methodOption = new Option<string>("--method") { Description = "phash, dhash or embedding", DefaultValueFactory = _ => "phash" };
        var thresholdOption = new Option<double?>("--threshold")
        {
            Description = $"Largest Hamming distance for phash/dhash (default {DedupCommand.DefaultHashThreshold} of 64 bits); smallest cosine similarity for embedding (default {DedupCommand.DefaultSimilarity})",
        };
        var dedup = new Command("dedup", "Print groups of near-duplicate images")
        {
            sourceArgument, methodOption, thresholdOption, jsonOption, modelOption, weightsOption, outputOption, poolingOption, threadsOption,
        };
        dedup.SetAction((r, token) =>
        {
            CheckThreads(r.GetValue(threadsOption));
            return DedupCommand.RunAsync(new DedupCommand.DedupSettings(r.GetValue(sourceArgument)!, r.GetValue(methodOption)!, r.GetValue(thresholdOption),
                r.GetValue(jsonOption), Model(r), r.GetValue(threadsOption)), console, token);
        });

        // eval
        var labelledArgument = new Argument<string>("folder") { Description = "A folder with one sub-folder of images per class" };
        var recallOption = new Option<int[]>("--recall")
        {
            Description = "Recall@K cut-offs",
            DefaultValueFactory = _ => [1, 2, 4, 8],
            AllowMultipleArgumentsPerToken = true,
        };
        var eval = new Command("eval", "Leave-one-out retrieval metrics on a labelled folder (class = sub-folder): Precision@1, MAP@R, R-Precision, Recall@K")
        {
            labelledArgument, modelOption, weightsOption, outputOption, poolingOption, flipOption, recallOption, jsonOption, threadsOption,
        };
        eval.SetAction((r, token) =>
        {
            CheckThreads(r.GetValue(threadsOption));
            return EvalCommand.RunAsync(new EvalCommand.EvalSettings(r.GetValue(labelledArgument)!, Model(r), r.GetValue(flipOption), r.GetValue(recallOption)!,
                r.GetValue(jsonOption), r.GetValue(threadsOption)), console, token);
        });

        return new RootCommand(
            "deepretrieval: index a folder of photos into a searchable gallery, search it by image, find near-duplicates, evaluate retrieval. " +
            "Exit codes: 0 done, 1 bad input, 2 bad command line, 3 unexpected failure, 130 interrupted.")
        {
            index, search, dedup, eval,
        };
    }

    private static void CheckThreads(int? threads)
    {
        if (threads is < 1)
            throw new ToolError($"--threads must be at least 1; got {threads}.");
    }
}
