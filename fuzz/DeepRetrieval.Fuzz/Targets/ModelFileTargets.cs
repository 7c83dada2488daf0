using DeepRetrieval.OnnxRuntime.Models;
using DeepRetrieval.Torch.Models;
using DeepRetrieval.Torch.Onnx;
using DeepRetrieval.Torch.Weights;
using static TorchSharp.torch;

namespace DeepRetrieval.Fuzz.Targets;

/// <summary>The safetensors reader: header length, JSON header, dtypes, shapes and extents of every tensor.</summary>
internal sealed class SafeTensorsTarget : FuzzTarget
{
    public override string Name => "safetensors";

    public override string Description => "SafeTensors.Load (JSON header length repaired after edits inside it)";

    public override IReadOnlyList<(string Name, byte[] Bytes)> CreateSeeds()
    {
        using var scope = NewDisposeScope();
        string path = ScratchFile.Write("seed.safetensors", []);
        SafeTensors.Save(path, [new("weight", arange(12, ScalarType.Float32).reshape(3, 4)), new("ids", tensor(new long[] { 3, -1 })), new("half", ones(2, ScalarType.Float16))],
            new Dictionary<string, string> { ["format"] = "pt", ["note"] = "fuzz seed" });
        return
        [
            ("written.safetensors", File.ReadAllBytes(path)),
            SeedData.Fixture("tests", "DeepRetrieval.Torch.Tests", "Weights", "Fixtures", "tiny.safetensors"),
            SeedData.Fixture("tests", "DeepRetrieval.Torch.Tests", "Weights", "Fixtures", "dtypes.safetensors"),
        ];
    }

    public override byte[] Repair(byte[] input) => Integrity.RepairSafeTensorsHeaderLength(input);

    public override void Run(byte[] input)
    {
        using var scope = NewDisposeScope();
        SafeTensors.Load(ScratchFile.Write("input.safetensors", input));
    }
}

/// <summary>The PyTorch checkpoint reader: zip structure, byteorder entry, pickle opcodes, storages and tensor views.</summary>
internal sealed class TorchCheckpointTarget : FuzzTarget
{
    public override string Name => "pt";

    // No repair: .NET's zip reader does not reject an entry for its CRC-32 in the reads the loader makes (it reads exactly
    // the declared length), so mutations inside data.pkl and the storages reach the unpickler as they are.
    public override string Description => "TorchCheckpoint.Load";

    public override IReadOnlyList<(string Name, byte[] Bytes)> CreateSeeds() =>
        new[] { "tiny.pt", "views.pt", "dtypes.pt", "nested.pt", "protocol4.pt", "tiny_half.pt" }
            .Select(name => SeedData.Fixture("tests", "DeepRetrieval.Torch.Tests", "Weights", "Fixtures", name))
            .ToArray();

    public override void Run(byte[] input)
    {
        using var scope = NewDisposeScope();
        TorchCheckpoint.Load(ScratchFile.Write("input.pt", input));
    }
}

/// <summary>A saved <see cref="RetrievalModel"/>: format metadata, the JSON configuration and every tensor against it.</summary>
internal sealed class RetrievalModelTarget : FuzzTarget
{
    public override string Name => "retrieval-model";

    public override string Description => "RetrievalModel.Load (JSON header length repaired after edits inside it)";

    public override IReadOnlyList<(string Name, byte[] Bytes)> CreateSeeds()
    {
        var seeds = new List<(string, byte[])>();
        foreach (var (name, config) in new[]
        {
            ("small_cnn_linear.safetensors", RetrievalModelConfig.For("small_cnn", 8)),
            ("small_cnn_bnneck_mac.safetensors", RetrievalModelConfig.For("small_cnn", 8) with { Head = "bnneck", Pooling = "mac", Metric = Metric.L2 }),
        })
        {
            using var model = new RetrievalModel(config, seed: 1);
            string path = ScratchFile.Write(name, []);
            model.Save(path);
            seeds.Add((name, File.ReadAllBytes(path)));
        }
        return seeds;
    }

    public override byte[] Repair(byte[] input) => Integrity.RepairSafeTensorsHeaderLength(input);

    // The length prefix and the JSON header (configuration, names, shapes, offsets) are what Load checks before it builds;
    // the half-megabyte of weights after them takes any value, and mutating it would only rebuild the network.
    public override int MutableLength(byte[] parent) =>
        parent.Length >= 8 && BitConverter.ToUInt64(parent, 0) is var header && header < (ulong)parent.Length - 8
            ? 8 + (int)header
            : parent.Length;

    public override void Run(byte[] input)
    {
        using var scope = NewDisposeScope();
        using var model = RetrievalModel.Load(ScratchFile.Write("input.safetensors", input));
    }
}

/// <summary>The TorchSharp ONNX reader and ResNet importer: protobuf fields, tensors (dims, raw data) and the graph walk.</summary>
internal sealed class OnnxImportTarget : FuzzTarget
{
    public override string Name => "onnx";

    public override string Description => "Torch OnnxModel.Parse, then OnnxImporter.ImportResNet when it parses";

    public override IReadOnlyList<(string Name, byte[] Bytes)> CreateSeeds() => OnnxSeeds.Create();

    public override void Run(byte[] input)
    {
        var model = OnnxModel.Parse(input, "fuzz.onnx");
        using var scope = NewDisposeScope();
        using var imported = OnnxImporter.ImportResNet(model).Backbone;
    }
}

/// <summary>The ONNX Runtime package's own graph scan (inputs, outputs, nodes, declared shapes) done before a session exists.</summary>
internal sealed class OnnxGraphTarget : FuzzTarget
{
    public override string Name => "onnx-graph";

    public override string Description => "OnnxRuntime OnnxModelGraph.Read";

    public override IReadOnlyList<(string Name, byte[] Bytes)> CreateSeeds() => OnnxSeeds.Create();

    public override void Run(byte[] input) => OnnxModelGraph.Read(ScratchFile.Write("input.onnx", input));
}

internal static class OnnxSeeds
{
    // Real PyTorch exports committed as the ONNX Runtime tests' fixtures (a few KB each).
    public static IReadOnlyList<(string Name, byte[] Bytes)> Create() =>
        new[] { "tiny_cnn.onnx", "tiny_cnn_any_size.onnx", "tiny_grey_cnn.onnx", "two_inputs.onnx", "tokens.onnx" }
            .Select(name => SeedData.Fixture("tests", "DeepRetrieval.OnnxRuntime.Tests", "Reference", name))
            .ToArray();
}
