using DeepRetrieval.Data;
using DeepRetrieval.Fuzz.Targets;
using DeepRetrieval.Indexes;

namespace DeepRetrieval.Fuzz.Tests;

/// <summary>The repairs that let mutations reach the parsers behind checksums and CRCs, and the mutator's determinism.</summary>
public sealed class IntegrityRepairTests
{
    [Fact]
    public void RepairIndexContainer_MakesAMutatedPayloadPassTheChecksum()
    {
        byte[] file = new IndexFileTarget().CreateSeeds().Single(s => s.Name == "Flat.drix").Bytes;
        file[^40] ^= 0x01;
        FluentActions.Invoking(() => IndexFile.LoadIndex(new MemoryStream(file))).Should().Throw<InvalidDataException>().WithMessage("*checksum*");
        Integrity.RepairIndexContainer(file);
        // A flipped bit in a stored vector component is a valid file again once the checksum is recomputed.
        IndexFile.LoadIndex(new MemoryStream(file)).Count.Should().Be(64);
    }

    [Fact]
    public void RepairIndexContainer_SetsTheTrailerLengthAfterTruncation()
    {
        byte[] file = new IndexFileTarget().CreateSeeds().Single(s => s.Name == "Flat.drix").Bytes;
        byte[] cut = Integrity.RepairIndexContainer(file[..^100]);
        FluentActions.Invoking(() => IndexFile.LoadIndex(new MemoryStream(cut))).Should().Throw<InvalidDataException>()
            .Which.Message.Should().NotContain("checksum").And.NotContain("trailer declares", "the parser, not the container, rejects it");
    }

    [Fact]
    public void PtTarget_NeedsNoCrcRepair_BecauseAMutatedStoredEntryStillReachesTheUnpickler()
    {
        var target = new TorchCheckpointTarget();
        byte[] file = target.CreateSeeds().Single(s => s.Name == "tiny.pt").Bytes;
        int key = IndexOf(file, "conv.weight"u8);
        key.Should().BePositive();
        file[key] = (byte)'k';
        FuzzRunner.Execute(target, file, out bool accepted).Should().BeNull();
        accepted.Should().BeTrue("the renamed key is read although the entry's CRC-32 no longer matches");
    }

    [Fact]
    public void RepairPng_RecomputesChunkCrcs_AndLeavesAValidFileAsItIs()
    {
        byte[] png = new ImageTarget().CreateSeeds().Single(s => s.Name == "gradient.png").Bytes;
        Integrity.RepairPng(png.ToArray()).Should().Equal(png);
        int type = IndexOf(png, "IHDR"u8);
        png[type + 4 + 3] = 12; // width 24 → 12
        Integrity.RepairPng(png);
        // The IHDR chunk's CRC-32 covers its type and 13 data bytes and follows them, big-endian.
        uint expected = System.IO.Hashing.Crc32.HashToUInt32(png.AsSpan(type, 4 + 13));
        System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(type + 4 + 13)).Should().Be(expected);
    }

    [Fact]
    public void RepairSafeTensorsHeaderLength_FollowsAnEditedHeader()
    {
        byte[] file = new SafeTensorsTarget().CreateSeeds().Single(s => s.Name == "written.safetensors").Bytes;
        int note = IndexOf(file, "fuzz seed"u8);
        byte[] longer = [.. file[..note], .. "a longer fuzz seed"u8, .. file[(note + "fuzz seed".Length)..]];
        byte[] repaired = Integrity.RepairSafeTensorsHeaderLength(longer);
        FuzzRunner.Execute(new SafeTensorsTarget(), repaired, out bool accepted).Should().BeNull();
        accepted.Should().BeTrue("the header grew by 9 bytes and its length now says so");
    }

    [Fact]
    public void Mutator_GivesTheSameInputsForTheSameSeed()
    {
        byte[] parent = NpySeed();
        var a = new Mutator(7);
        var b = new Mutator(7);
        var c = new Mutator(8);
        var fromA = Enumerable.Range(0, 50).Select(_ => a.Mutate(parent, [parent])).ToList();
        var fromB = Enumerable.Range(0, 50).Select(_ => b.Mutate(parent, [parent])).ToList();
        var fromC = Enumerable.Range(0, 50).Select(_ => c.Mutate(parent, [parent])).ToList();
        fromA.Zip(fromB).Should().OnlyContain(p => p.First.SequenceEqual(p.Second));
        fromA.Zip(fromC).Should().Contain(p => !p.First.SequenceEqual(p.Second));
        fromA.Should().Contain(m => !m.SequenceEqual(parent));
    }

    [Fact]
    public void Mutator_LeavesTheBytesAfterTheMutableLengthAsTheyAre()
    {
        byte[] parent = Enumerable.Range(0, 100).Select(i => (byte)i).ToArray();
        var mutator = new Mutator(3);
        for (int i = 0; i < 200; i++)
        {
            byte[] child = mutator.Mutate(parent, [parent], mutableLength: 10);
            child.AsSpan(child.Length - 90).SequenceEqual(parent.AsSpan(10)).Should().BeTrue();
        }
    }

    [Fact]
    public void RetrievalModelTarget_MutatesOnlyTheLengthPrefixAndJsonHeader()
    {
        var target = new RetrievalModelTarget();
        byte[] seed = target.CreateSeeds()[0].Bytes;
        int mutable = target.MutableLength(seed);
        mutable.Should().Be(8 + (int)BitConverter.ToUInt64(seed, 0));
        seed[mutable - 1].Should().BeOneOf((byte)' ', (byte)'}');
        mutable.Should().BeLessThan(seed.Length / 10);
    }

    private static byte[] NpySeed()
    {
        using var stream = new MemoryStream();
        NpyWriter.Write(stream, [1f, 2f, 3f, 4f], 2, 2);
        return stream.ToArray();
    }

    private static int IndexOf(byte[] data, ReadOnlySpan<byte> value) => data.AsSpan().IndexOf(value);
}
