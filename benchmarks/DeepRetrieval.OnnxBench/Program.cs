using System.Diagnostics;
using System.Reflection;
using DeepRetrieval.Bench;
using DeepRetrieval.Data;
using DeepRetrieval.OnnxBench;
using DeepRetrieval.OnnxRuntime;
using DeepRetrieval.OnnxRuntime.Preprocessing;
using DeepRetrieval.Pooling;
using Microsoft.ML.OnnxRuntime;

// ResNet-18 embedding throughput: the ONNX Runtime embedder against PyTorch (torchvision's resnet18, same weights exported to
// ONNX), same batch size and threads, images decoded and preprocessed beforehand. Every round runs each contender once, in an
// order rotated from round to round, so drift in the machine's load (other jobs share the cores) hits every contender alike.
return BenchCommandLine.Invoke(BenchOptions.CreateCommand(Run), args);

static int Run(BenchOptions options)
{
    string work = Directory.CreateTempSubdirectory("onnx-bench-").FullName;
    try
    {
        const int length = 3 * Photos.Size * Photos.Size;
        List<byte[]> photos = Photos.Load(options.PhotoFolder, options.Images);
        var imageNet = new float[options.Images * length];
        for (int i = 0; i < options.Images; i++)
            InputNormalization.ImageNet.Normalize(photos[i], Photos.Size, Photos.Size, PixelFormat.Rgba32, imageNet.AsSpan(i * length, length));
        string imagesNpy = Path.Combine(work, "images.npy");
        NpyWriter.Write(imagesNpy, imageNet, options.Images, length);
        string torchvisionOnnx = Path.Combine(work, "resnet18.onnx");

        Console.WriteLine($"# ResNet-18 embedding throughput, {options.Images} photos per round, {options.Rounds} rounds, {Environment.ProcessorCount} logical cores");
        Console.WriteLine($"load average at start: {File.ReadAllText("/proc/loadavg").Trim()}");
        using var torch = new TorchPeer(options.Python, imagesNpy, torchvisionOnnx, capIsa: true);
        using TorchPeer? uncapped = options.TorchWithoutIsaCap ? new TorchPeer(options.Python, imagesNpy, null, capIsa: false) : null;
        using TorchPeer? passive = options.TorchPassiveWait ? new TorchPeer(options.Python, imagesNpy, null, capIsa: true, passiveWait: true) : null;
        Console.WriteLine($"PyTorch peer: torch {torch.Versions}; ONNX Runtime {typeof(InferenceSession).Assembly.GetName().Version}");

        // Both sides must compute the same thing: compare the embeddings of the first images.
        using (var check = new OnnxEmbedder(torchvisionOnnx))
        {
            int compared = Math.Min(8, options.Images);
            string dump = Path.Combine(work, "torch.npy");
            torch.Dump(compared, dump);
            float[] reference = NpyReader.Read(dump).Data;
            float[] ours = check.Embed(imageNet.AsSpan(0, compared * length), compared);
            Console.WriteLine($"max |embedder − PyTorch| over {compared} embeddings: {ours.Zip(reference, (a, b) => Math.Abs(a - b)).Max():E2}");
        }

        string mlNetModels = typeof(BenchOptions).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "DnnImageModels").Value!;
        float[]? mlNetPlanes = null;
        OnnxEmbedderOptions? mlNetOptions = null;
        if (options.MlNet)
        {
            mlNetOptions = MlNetResNet18.Options(mlNetModels, new GemPooling(3f));
            mlNetPlanes = new float[options.Images * length];
            for (int i = 0; i < options.Images; i++)
                mlNetOptions.Normalization.Normalize(photos[i], Photos.Size, Photos.Size, PixelFormat.Rgba32, mlNetPlanes.AsSpan(i * length, length));
        }

        var summary = new List<string>();
        foreach (int threads in options.Threads)
        {
            foreach (int batch in options.Batches)
            {
                var disposables = new List<IDisposable>();
                OnnxEmbedder Embedder(string path, OnnxEmbedderOptions settings)
                {
                    var embedder = new OnnxEmbedder(path, settings with { BatchSize = batch });
                    disposables.Add(embedder);
                    return embedder;
                }
                Func<double> Timed(Action action) => () =>
                {
                    long start = Stopwatch.GetTimestamp();
                    action();
                    return Stopwatch.GetElapsedTime(start).TotalSeconds;
                };
                var output = new float[options.Images * 512];
                var baseOptions = new OnnxEmbedderOptions { IntraOpThreads = threads };
                OnnxEmbedder ours = Embedder(torchvisionOnnx, baseOptions);
                var contenders = new List<Contender>
                {
                    new("embedder", Timed(() => ours.Embed(imageNet, options.Images, output))),
                    new("PyTorch, DNNL_MAX_CPU_ISA=AVX", () => torch.Run(threads, batch, options.Images)),
                };
                if (passive is not null)
                    contenders.Add(new("PyTorch, DNNL_MAX_CPU_ISA=AVX, OMP_WAIT_POLICY=PASSIVE", () => passive.Run(threads, batch, options.Images)));
                if (uncapped is not null)
                    contenders.Add(new("PyTorch, no ISA cap", () => uncapped.Run(threads, batch, options.Images)));
                if (options.Tune)
                {
                    OnnxEmbedder spinning = Embedder(torchvisionOnnx, baseOptions with { AllowSpinning = true });
                    OnnxEmbedder basic = Embedder(torchvisionOnnx, baseOptions with { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC });
                    OnnxEmbedder noArena = Embedder(torchvisionOnnx, baseOptions with { EnableMemoryArena = false });
                    var plain = new PlainOnnxRuntime(torchvisionOnnx, threads);
                    disposables.Add(plain);
                    contenders.Add(new("embedder, spin-waiting on (ONNX Runtime's default)", Timed(() => spinning.Embed(imageNet, options.Images, output))));
                    contenders.Add(new("embedder, graph optimisation BASIC", Timed(() => basic.Embed(imageNet, options.Images, output))));
                    contenders.Add(new("embedder, memory arena off", Timed(() => noArena.Embed(imageNet, options.Images, output))));
                    contenders.Add(new("plain ORT API (default session, new tensors per batch)", Timed(() => plain.Embed(imageNet, options.Images, batch))));
                }
                if (mlNetPlanes is not null)
                {
                    OnnxEmbedder mlNet = Embedder(MlNetResNet18.ModelPath(mlNetModels), mlNetOptions! with { IntraOpThreads = threads });
                    contenders.Add(new("embedder, ML.NET ResNet18.onnx + GeM (fixed batch 1)", Timed(() => mlNet.Embed(mlNetPlanes, options.Images, output))));
                }

                foreach (Contender contender in contenders) contender.RunRound(options.Images);   // warm-up, not recorded
                foreach (Contender contender in contenders) contender.ImagesPerSecond.Clear();
                for (int round = 0; round < options.Rounds; round++)
                {
                    for (int k = 0; k < contenders.Count; k++)
                        contenders[(round + k) % contenders.Count].RunRound(options.Images);
                    Console.Error.Write('.');
                }
                Console.Error.WriteLine();

                Contender torchCapped = contenders[1];
                // The fastest PyTorch variant of each round: the comparison most favourable to PyTorch.
                double[] bestTorch = Enumerable.Range(0, options.Rounds)
                    .Select(r => contenders.Where(c => c.Name.StartsWith("PyTorch", StringComparison.Ordinal)).Max(c => c.ImagesPerSecond[r])).ToArray();
                Console.WriteLine();
                Console.WriteLine($"## {threads} thread(s), batch {batch}");
                Console.WriteLine("| contender | images/s, median | min – max | ratio to PyTorch (AVX cap), median of rounds (min – max) | ratio to the round's fastest PyTorch (min – max) |");
                Console.WriteLine("| --- | --- | --- | --- | --- |");
                foreach (Contender contender in contenders)
                {
                    double[] ratios = contender.ImagesPerSecond.Zip(torchCapped.ImagesPerSecond, (a, b) => a / b).ToArray();
                    double[] toBest = contender.ImagesPerSecond.Zip(bestTorch, (a, b) => a / b).ToArray();
                    string row = $"| {contender.Name} | {Median(contender.ImagesPerSecond):F1} | {contender.ImagesPerSecond.Min():F1} – {contender.ImagesPerSecond.Max():F1} | " +
                                 $"{Median(ratios):F2}× ({ratios.Min():F2} – {ratios.Max():F2}) | {Median(toBest):F2}× ({toBest.Min():F2} – {toBest.Max():F2}) |";
                    Console.WriteLine(row);
                    if (contender == contenders[0])
                        summary.Add($"| {threads} | {batch} | {Median(contender.ImagesPerSecond):F1} | {Median(torchCapped.ImagesPerSecond):F1} | {Median(ratios):F2}× ({ratios.Min():F2} – {ratios.Max():F2}) | {Median(bestTorch):F1} | {Median(toBest):F2}× ({toBest.Min():F2} – {toBest.Max():F2}) |");
                }
                Console.WriteLine();
                Console.WriteLine("<details><summary>images/s per round</summary>");
                Console.WriteLine();
                foreach (Contender contender in contenders)
                    Console.WriteLine($"- {contender.Name}: {string.Join(", ", contender.ImagesPerSecond.Select(v => v.ToString("F1")))}");
                Console.WriteLine();
                Console.WriteLine("</details>");
                foreach (IDisposable disposable in disposables) disposable.Dispose();
            }
        }

        Console.WriteLine();
        Console.WriteLine("## Summary: embedder against PyTorch");
        Console.WriteLine("| threads | batch | embedder images/s | PyTorch (AVX cap) images/s | ratio, median (min – max) over rounds | fastest PyTorch variant of each round, images/s | ratio to it |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
        foreach (string row in summary) Console.WriteLine(row);
        Console.WriteLine($"load average at end: {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }
    finally
    {
        Directory.Delete(work, recursive: true);
    }
}

static double Median(IReadOnlyList<double> values)
{
    double[] sorted = [.. values.Order()];
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}
