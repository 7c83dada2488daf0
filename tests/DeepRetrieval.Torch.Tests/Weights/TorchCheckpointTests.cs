using System.IO.Compression;
using System.Text.Json;
using DeepRetrieval.Torch.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Weights;

public sealed class TorchCheckpointTests
{
    private static readonly string[] TinyKeys =
    [
        "conv.weight", "conv.bias", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked",
        "fc.weight", "fc.bias",
    ];

    [Fact]
    public void Load_TinyStateDict_EqualsTheIndependentlyWrittenSafetensors()
    {
        using var scope = NewDisposeScope();
        var checkpoint = TorchCheckpoint.Load(WeightFixtures.Path("tiny.pt"));
        var reference = SafeTensors.Load(WeightFixtures.Path("tiny.safetensors")).Tensors;
        checkpoint.Keys.Should().Equal(TinyKeys);
        foreach (string key in TinyKeys)
        {
            checkpoint[key].dtype.Should().Be(reference[key].dtype, key);
            checkpoint[key].shape.Should().Equal(reference[key].shape, key);
            checkpoint[key].bytes.ToArray().Should().Equal(reference[key].bytes.ToArray(), key);
        }
        checkpoint["bn.running_var"].data<float>().ToArray().Should().Equal(1.5f, 0.7f, 1.1f, 0.9f);
    }

    [Fact]
    public void Load_ResolvesTransposedOffsetAndStridedViewsOfOneStorage()
    {
        using var scope = NewDisposeScope();
        var views = TorchCheckpoint.Load(WeightFixtures.Path("views.pt"));
        // base = arange(12).reshape(3, 4)
        views["base"].data<float>().ToArray().Should().Equal(Enumerable.Range(0, 12).Select(i => (float)i));
        views["transposed"].shape.Should().Equal(4L, 3L);
        views["transposed"].data<float>().ToArray().Should().Equal(0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11);
        views["corner"].shape.Should().Equal(2L, 2L);
        views["corner"].data<float>().ToArray().Should().Equal(5, 7, 9, 11);
        views["row"].data<float>().ToArray().Should().Equal(8, 9, 10, 11);
        views.Values.Should().OnlyContain(t => t.is_contiguous());
    }

    [Fact]
    public void Load_ReadsFloat64BFloat16Float16AndInt64()
    {
        using var scope = NewDisposeScope();
        var tensors = TorchCheckpoint.Load(WeightFixtures.Path("dtypes.pt"));
        tensors["f64"].data<double>().ToArray().Should().Equal(1.5, -2.25);
        tensors["bf16"].dtype.Should().Be(ScalarType.BFloat16);
        tensors["bf16"].to(ScalarType.Float32).data<float>().ToArray().Should().Equal(1f, -0.5f, 3f);
        tensors["f16"].dtype.Should().Be(ScalarType.Float16);
        tensors["f16"].shape.Should().Equal(1L, 2L);
        tensors["f16"].to(ScalarType.Float32).data<float>().ToArray().Should().Equal(0.5f, 2f);
        tensors["i64"].data<long>().ToArray().Should().Equal(-3, 1L << 40);
    }

    [Fact]
    public void Load_ReadsParametersBoolAndUInt8_FromAProtocol4Pickle()
    {
        using var scope = NewDisposeScope();
        var tensors = TorchCheckpoint.Load(WeightFixtures.Path("protocol4.pt"));
        tensors.Keys.Should().Equal("w", "mask", "u8");
        tensors["w"].shape.Should().Equal(2L, 3L);
        tensors["w"].data<float>().ToArray().Should().Equal(0, 1, 2, 3, 4, 5);
        tensors["mask"].data<bool>().ToArray().Should().Equal(true, false, true);
        tensors["u8"].data<byte>().ToArray().Should().Equal((byte)0, (byte)200);
    }

    [Fact]
    public void Load_FindsAStateDictNestedUnderStateDict_AndAnExplicitEntry()
    {
        using var scope = NewDisposeScope();
        var nested = TorchCheckpoint.Load(WeightFixtures.Path("nested.pt"));
        nested.Keys.Should().Equal(TinyKeys.Select(k => "module." + k));
        TorchCheckpoint.Load(WeightFixtures.Path("nested.pt"), "state_dict").Keys.Should().HaveCount(TinyKeys.Length);
        FluentActions.Invoking(() => TorchCheckpoint.Load(WeightFixtures.Path("nested.pt"), "ema"))
            .Should().Throw<InvalidDataException>().WithMessage("*no state dict under 'ema'*'epoch', 'state_dict'*");
    }

    [Fact]
    public void Load_RejectsLegacyFiles_AskingForARecentTorchSave()
    {
        FluentActions.Invoking(() => TorchCheckpoint.Load(WeightFixtures.Path("legacy.pt")))
            .Should().Throw<InvalidDataException>().WithMessage("*legacy.pt*legacy*re-save it with a recent torch.save*");
    }

    [Fact]
    public void Load_RejectsGlobalsOutsideTheAllowList_NamingTheGlobal()
    {
        FluentActions.Invoking(() => TorchCheckpoint.Load(WeightFixtures.Path("foreign_global.pt")))
            .Should().Throw<InvalidDataException>().WithMessage("*foreign_global.pt*'argparse.Namespace'*");
    }

    [Fact]
    public void Load_RejectsTruncatedArchives_NonZipFiles_AndMissingStorages()
    {
        using var dir = new WeightFixtures.TempDirectory();
        byte[] bytes = File.ReadAllBytes(WeightFixtures.Path("tiny.pt"));
        string truncated = dir.File("truncated.pt");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        FluentActions.Invoking(() => TorchCheckpoint.Load(truncated)).Should().Throw<InvalidDataException>().WithMessage("*truncated.pt*");

        string text = dir.File("text.pt");
        File.WriteAllText(text, "hello");
        FluentActions.Invoking(() => TorchCheckpoint.Load(text)).Should().Throw<InvalidDataException>().WithMessage("*text.pt is not a PyTorch checkpoint*");

        string missing = dir.File("missing.pt");
        File.Copy(WeightFixtures.Path("tiny.pt"), missing);
        using (var zip = ZipFile.Open(missing, ZipArchiveMode.Update))
            zip.GetEntry("tiny/data/7")!.Delete();
        FluentActions.Invoking(() => TorchCheckpoint.Load(missing)).Should().Throw<InvalidDataException>().WithMessage("*storage '7' is missing*");
    }

    [Fact]
    public void Load_RejectsACorruptPickle_WithoutRunningIt()
    {
        using var dir = new WeightFixtures.TempDirectory();
        string path = dir.File("bad.pt");
        File.Copy(WeightFixtures.Path("tiny.pt"), path);
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Update))
        {
            zip.GetEntry("tiny/data.pkl")!.Delete();
            using var stream = zip.CreateEntry("tiny/data.pkl").Open();
            // PROTO 2, GLOBAL 'os system', then a string and REDUCE: what a malicious pickle looks like.
            byte[] pickle = [0x80, 0x02, .. "cos\nsystem\nX"u8, 2, 0, 0, 0, (byte)'l', (byte)'s', 0x85, (byte)'R', (byte)'.'];
            stream.Write(pickle);
        }
        FluentActions.Invoking(() => TorchCheckpoint.Load(path)).Should().Throw<InvalidDataException>().WithMessage("*'os.system'*");
    }

    [Fact]
    public void Load_WithAnySingleCorruptPickleByte_EitherLoadsOrThrowsInvalidData()
    {
        using var dir = new WeightFixtures.TempDirectory();
        var entries = new Dictionary<string, byte[]>();
        using (var zip = ZipFile.OpenRead(WeightFixtures.Path("views.pt")))
        {
            foreach (var entry in zip.Entries)
            {
                using var stream = entry.Open();
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                entries[entry.FullName] = copy.ToArray();
            }
        }
        byte[] original = entries["views/data.pkl"];
        string path = dir.File("fuzz.pt");
        var unexpected = new List<string>();
        // Every other byte, alternating a full flip and a low-bit flip, keeps the test fast while reaching every opcode kind.
        for (int i = 0; i < original.Length; i += 2)
        {
            using (var file = File.Create(path))
            using (var zip = new ZipArchive(file, ZipArchiveMode.Create))
            {
                foreach (var (name, bytes) in entries)
                {
                    using var stream = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
                    byte[] content = bytes;
                    if (name == "views/data.pkl")
                    {
                        content = (byte[])bytes.Clone();
                        content[i] ^= (byte)(i % 4 == 0 ? 0xFF : 0x01);
                    }
                    stream.Write(content);
                }
            }
            using var scope = NewDisposeScope();
            try
            {
                TorchCheckpoint.Load(path);
            }
            catch (InvalidDataException)
            {
            }
            catch (Exception e)
            {
                unexpected.Add($"byte {i}: {e.GetType().Name}: {e.Message}");
            }
        }
        unexpected.Should().BeEmpty();
    }

    [Fact]
    public void Load_ChecksTheByteOrderRecordOfNewerPyTorch()
    {
        using var scope = NewDisposeScope();
        using var dir = new WeightFixtures.TempDirectory();
        string path = dir.File("order.pt");
        File.Copy(WeightFixtures.Path("tiny.pt"), path);
        void SetOrder(string order)
        {
            using var zip = ZipFile.Open(path, ZipArchiveMode.Update);
            zip.GetEntry("tiny/byteorder")?.Delete();
            using var writer = new StreamWriter(zip.CreateEntry("tiny/byteorder").Open());
            writer.Write(order);
        }
        SetOrder("little");
        TorchCheckpoint.Load(path).Should().HaveCount(9);
        SetOrder("big");
        FluentActions.Invoking(() => TorchCheckpoint.Load(path)).Should().Throw<InvalidDataException>().WithMessage("*'big'-endian*");
    }

    [Fact]
    public void LoadFile_TinyCheckpoint_ReproducesThePyTorchOutput()
    {
        using var scope = NewDisposeScope();
        var net = new TinyNet();
        var report = StateDict.LoadFile(net, WeightFixtures.Path("tiny.pt"));
        report.IsExact.Should().BeTrue(report.ToString());
        net.eval();
        var input = linspace(-1, 1, 2 * 3 * 5 * 5).reshape(2, 3, 5, 5);
        float[] actual = net.forward(input).data<float>().ToArray();
        using var json = JsonDocument.Parse(File.ReadAllText(WeightFixtures.Path("tiny_output.json")));
        float[] expected = json.RootElement.GetProperty("output").EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
        actual.Should().HaveCount(4);
        for (int i = 0; i < 4; i++) actual[i].Should().BeApproximately(expected[i], 1e-5f);
    }
}
