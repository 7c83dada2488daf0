using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using TorchSharp;
using Xunit.Abstractions;

namespace DeepRetrieval.Torch.Tests;

/// <summary>
/// TorchSharp must load and compute in this test process. On systems whose libstdc++ lacks
/// GLIBCXX_3.4.32 (Debian 12, Ubuntu 22.04) that only works because
/// src/DeepRetrieval.Torch/build/DeepRetrieval.Torch.targets patched the libLibTorchSharp.so copied
/// into this project's output directory.
/// </summary>
public sealed class TorchSharpLoadingTests
{
    private readonly ITestOutputHelper _output;

    public TorchSharpLoadingTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void Matmul_GivesTheHandComputedProduct()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.tensor(new double[] { 1, 2, 3, 4, 5, 6 }, new long[] { 2, 3 });
        var b = torch.tensor(new double[] { 7, 8, 9, 10, 11, 12 }, new long[] { 3, 2 });

        var c = a.matmul(b);

        c.shape.Should().Equal(2L, 2L);
        // [1 2 3; 4 5 6] x [7 8; 9 10; 11 12] = [58 64; 139 154]
        c.data<double>().ToArray().Should().Equal(58d, 64d, 139d, 154d);
    }

    [Fact]
    public void Backward_GivesTheHandDerivedGradient()
    {
        using var scope = torch.NewDisposeScope();
        double[] xs = [1, -2, 3, 0.5];
        double[] ws = [0.5, 1.5, -2, 4];
        var x = torch.tensor(xs, requires_grad: true);
        var w = torch.tensor(ws, requires_grad: true);

        // y = sum(x^2 * w)  =>  dy/dx = 2 x w,  dy/dw = x^2
        var y = (x * x * w).sum();
        y.backward();

        y.item<double>().Should().BeApproximately(xs.Zip(ws, (xi, wi) => xi * xi * wi).Sum(), 1e-12);
        x.grad.Should().NotBeNull();
        w.grad.Should().NotBeNull();
        x.grad!.data<double>().ToArray().Should().Equal(xs.Zip(ws, (xi, wi) => 2 * xi * wi));
        w.grad!.data<double>().ToArray().Should().Equal(xs.Select(xi => xi * xi));
    }

    [Fact]
    public void NativeLibrary_IsTheCopyInTheOutputDirectory_PatchedWhenTheSystemNeedsIt()
    {
        if (!OperatingSystem.IsLinux())
            return;

        using (torch.ones(1)) { } // make sure the native backend is loaded

        string[] loaded = File.ReadAllLines("/proc/self/maps")
            .Select(line => line.IndexOf('/') is var slash and >= 0 ? line[slash..] : "")
            .Where(path => path.EndsWith("/libLibTorchSharp.so", StringComparison.Ordinal))
            .Distinct()
            .ToArray();
        _output.WriteLine("loaded: " + string.Join(", ", loaded));

        // TorchSharp's regular load (its "step 1") must succeed from the copy the build put next to the tests
        // (runtimes/linux-x64/native, or the output root for a RID-specific build), not from the cpu/ folder its
        // fallback fills with unpatched files from the NuGet cache.
        string path = loaded.Should().ContainSingle().Subject;
        path.Should().StartWith(AppContext.BaseDirectory);
        Path.GetDirectoryName(path).Should().NotBe(Path.Combine(AppContext.BaseDirectory, "cpu"));

        string? readelf = NativeTestSupport.ReadelfVersionInfo(path);
        if (readelf is null)
        {
            _output.WriteLine("readelf not available; flag check skipped.");
            return;
        }
        string? line = NativeTestSupport.Glibcxx332LineOrNull(readelf);
        if (line is null)
        {
            _output.WriteLine("this TorchSharp build does not require GLIBCXX_3.4.32; nothing to patch.");
            return;
        }
        _output.WriteLine(line);
        if (NativeTestSupport.SystemLibStdCxxLacksGlibcxx332(out string? source))
            line.Should().Contain("Flags: WEAK", $"the system libstdc++ ({source ?? "not found"}) lacks GLIBCXX_3.4.32, so the build must patch the output copy");
        else
            _output.WriteLine($"system libstdc++ ({source}) has GLIBCXX_3.4.32; the copy need not be patched.");
    }
}

/// <summary>
/// Unit tests of the ELF patch logic inside DeepRetrieval.Torch.targets, run through MSBuild exactly as a
/// build does (the logic lives in the targets file as an inline RoslynCodeTaskFactory task), on synthetic
/// ELF files, malformed files, links and, when it can be found, the pristine TorchSharp library.
/// </summary>
public sealed class LibTorchSharpPatchTargetsTests : IClassFixture<LibTorchSharpPatchTargetsTests.Fixture>
{
    private readonly Fixture _f;
    private readonly ITestOutputHelper _output;

    public LibTorchSharpPatchTargetsTests(Fixture fixture, ITestOutputHelper output)
    {
        _f = fixture;
        _output = output;
    }

    /// <summary>Files that must stay byte-for-byte identical, with the reason the task must give.</summary>
    public static TheoryData<string, string> UntouchedCases => new()
    {
        { "already-weak", "is already patched" },
        { "no-glibcxx-3.4.32", "no GLIBCXX_3.4.32 requirement" },
        { "other-symbol-needs-3.4.32", "symbol _ZSt28__throw_bad_array_new_lengthv needs GLIBCXX_3.4.32" },
        { "bad-hash", "hash mismatch" },
        { "aux-next-out-of-bounds", "Elf64_Vernaux out of bounds" },
        { "string-index-out-of-bounds", "string index out of bounds" },
        { "truncated", "section header table out of bounds" },
        { "not-elf", "not an ELF file" },
        { "elf32", "not a 64-bit ELF file" },
        { "big-endian", "not a little-endian ELF file" },
        { "pkgs/torchsharp", "NuGet package folder" },
    };

    [Fact]
    public void OptOut_LeavesEveryFileUntouched()
    {
        if (!OperatingSystem.IsLinux())
            return; // the targets only act on Linux
        _f.OptOutRun.ExitCode.Should().Be(0, _f.OptOutRun.Log);
        foreach (var (path, before) in _f.Before)
            ShouldBeSame(_f.AfterOptOut[path], before, path + " (DeepRetrievalPatchLibTorchSharp=false)");
    }

    [Fact]
    public void ValidLibrary_GetsOnlyTheWeakFlag_KeepingModeAndTimestamp()
    {
        if (!OperatingSystem.IsLinux())
            return; // the targets only act on Linux
        _f.PatchRun.ExitCode.Should().Be(0, _f.PatchRun.Log);
        _f.PatchRun.Log.Should().Contain("0 Warning(s)").And.Contain("0 Error(s)");
        foreach (string line in _f.PatchRun.Log.Split('\n').Where(l => l.Contains("DeepRetrieval.Torch:", StringComparison.Ordinal)))
            _output.WriteLine(line.Trim());

        foreach (string name in new[] { "runtimes/linux-x64/native", "cpu" })
        {
            string path = _f.OutPath(name);
            FileState before = _f.Before[path], after = _f.AfterPatch[path];
            DiffOffsets(before.Bytes, after.Bytes).Should().Equal(new[] { _f.SyntheticFlagsOffset }, name);
            after.Bytes[_f.SyntheticFlagsOffset].Should().Be(0x02, "VER_FLG_WEAK");
            after.LastWriteUtc.Should().Be(before.LastWriteUtc, "the timestamp is kept so incremental copies stay skipped");
            after.Mode.Should().Be(before.Mode);
            after.IsSymlink.Should().BeFalse();
            _f.PatchRun.Log.Should().Contain("patched " + path);
        }
        Directory.EnumerateFiles(_f.OutDir, "*.tmp", SearchOption.AllDirectories).Should().BeEmpty("temporary files are cleaned up");

        string? readelfBefore = NativeTestSupport.ReadelfVersionInfo(_f.CachePristine);
        string? readelfAfter = NativeTestSupport.ReadelfVersionInfo(_f.OutPath("cpu"));
        if (readelfBefore is not null && readelfAfter is not null)
        {
            NativeTestSupport.Glibcxx332Line(readelfBefore).Should().Contain("Flags: none", "readelf reads the synthetic input");
            NativeTestSupport.Glibcxx332Line(readelfAfter).Should().Contain("Flags: WEAK");
        }
    }

    [Fact]
    public void SymbolicLink_IsReplacedByAPatchedFile_TargetUntouched()
    {
        if (!OperatingSystem.IsLinux())
            return; // the targets only act on Linux
        string link = _f.OutPath("symlinked");
        _f.Before[link].IsSymlink.Should().BeTrue();
        _f.AfterPatch[link].IsSymlink.Should().BeFalse();
        DiffOffsets(_f.Before[link].Bytes, _f.AfterPatch[link].Bytes).Should().Equal(_f.SyntheticFlagsOffset);
        _f.AfterPatch[link].LastWriteUtc.Should().Be(_f.Before[_f.CachePristine].LastWriteUtc, "the link target's time is kept");
        ShouldBeSame(_f.AfterPatch[_f.CachePristine], _f.Before[_f.CachePristine], "the link target (think NuGet cache)");
    }

    [Fact]
    public void HardLink_IsBroken_OtherLinkUntouched()
    {
        if (!OperatingSystem.IsLinux())
            return; // the targets only act on Linux
        string path = _f.OutPath("hardlinked");
        DiffOffsets(_f.Before[path].Bytes, _f.AfterPatch[path].Bytes).Should().Equal(_f.SyntheticFlagsOffset);
        ShouldBeSame(_f.AfterPatch[_f.CacheHardLink], _f.Before[_f.CacheHardLink], "the other name of the hard link (think NuGet cache)");
    }

    [Theory]
    [MemberData(nameof(UntouchedCases))]
    public void UnexpectedOrMalformedFile_IsLeftByteForByteUntouched(string name, string reason)
    {
        if (!OperatingSystem.IsLinux())
            return; // the targets only act on Linux
        _f.PatchRun.ExitCode.Should().Be(0, _f.PatchRun.Log);
        string path = _f.OutPath(name);
        ShouldBeSame(_f.AfterPatch[path], _f.Before[path], name);
        ShouldBeSame(_f.AfterSecondPatch[path], _f.Before[path], name + " after a second run");
        _f.PatchRun.Log.Should().NotContain("patched " + path);
        _f.PatchRun.Log.Split('\n').Should().Contain(l => l.Contains(path, StringComparison.Ordinal) && l.Contains(reason, StringComparison.Ordinal),
            "the file must be skipped for the expected reason");
    }

    [Fact]
    public void SecondRun_IsANoOp()
    {
        if (!OperatingSystem.IsLinux())
            return; // the targets only act on Linux
        _f.SecondPatchRun.ExitCode.Should().Be(0, _f.SecondPatchRun.Log);
        foreach (var (path, afterFirst) in _f.AfterPatch)
            ShouldBeSame(_f.AfterSecondPatch[path], afterFirst, path);
        _f.SecondPatchRun.Log.Should().NotContain("DeepRetrieval.Torch: patched");
        _f.SecondPatchRun.Log.Should().Contain("already patched");
    }

    [Fact]
    public void PristineTorchSharpLibrary_GetsExactlyOneFlagByteChanged()
    {
        if (!OperatingSystem.IsLinux())
            return; // the targets only act on Linux
        if (_f.RealCopy is null)
        {
            _output.WriteLine("pristine libLibTorchSharp.so not found in the NuGet cache; covered by the synthetic cases only.");
            return;
        }
        FileState before = _f.Before[_f.RealCopy], after = _f.AfterPatch[_f.RealCopy];
        if (_f.PatchRun.Log.Contains("skipped " + _f.RealCopy + ": no GLIBCXX_3.4.32 requirement", StringComparison.Ordinal))
        {
            // A TorchSharp that no longer needs GLIBCXX_3.4.32: nothing to patch, and nothing may change.
            _output.WriteLine("the referenced TorchSharp does not require GLIBCXX_3.4.32; the patch may be obsolete.");
            ShouldBeSame(after, before, "an unaffected TorchSharp library");
            return;
        }
        int[] diff = DiffOffsets(before.Bytes, after.Bytes);
        diff.Should().ContainSingle();
        before.Bytes[diff[0]].Should().Be(0);
        after.Bytes[diff[0]].Should().Be(2);

        string? beforeElf = NativeTestSupport.ReadelfVersionInfo(_f.RealSource!);
        string? afterElf = NativeTestSupport.ReadelfVersionInfo(_f.RealCopy);
        if (beforeElf is null || afterElf is null)
            return;
        NativeTestSupport.Glibcxx332Line(beforeElf).Should().Contain("Flags: none");
        NativeTestSupport.Glibcxx332Line(afterElf).Should().Contain("Flags: WEAK");
        // Nothing else in the version information changed.
        afterElf.Replace(_f.RealCopy, "X", StringComparison.Ordinal)
            .Should().Be(beforeElf.Replace(_f.RealSource!, "X", StringComparison.Ordinal)
                .Replace("GLIBCXX_3.4.32  Flags: none", "GLIBCXX_3.4.32  Flags: WEAK", StringComparison.Ordinal));
    }

    private static void ShouldBeSame(FileState actual, FileState expected, string because)
    {
        actual.Bytes.AsSpan().SequenceEqual(expected.Bytes).Should().BeTrue($"the content of {because} must not change");
        actual.LastWriteUtc.Should().Be(expected.LastWriteUtc, because);
        actual.Mode.Should().Be(expected.Mode, because);
        actual.IsSymlink.Should().Be(expected.IsSymlink, because);
    }

    private static int[] DiffOffsets(byte[] a, byte[] b)
    {
        a.Length.Should().Be(b.Length);
        return Enumerable.Range(0, a.Length).Where(i => a[i] != b[i]).ToArray();
    }

    public sealed record FileState(byte[] Bytes, DateTime LastWriteUtc, UnixFileMode Mode, bool IsSymlink);

    public sealed record MsBuildRun(int ExitCode, string Log);

    public sealed class Fixture : IDisposable
    {
        public string Root { get; } = Path.Combine(Path.GetTempPath(), "dr-libtorchsharp-patch-" + Guid.NewGuid().ToString("N"));
        public string OutDir => Path.Combine(Root, "out");
        public string CachePristine => Path.Combine(Root, "cache", "libLibTorchSharp.so");
        public string CacheHardLink => Path.Combine(Root, "cache-hard", "libLibTorchSharp.so");
        public int SyntheticFlagsOffset { get; }
        public string? RealSource { get; }
        public string? RealCopy { get; }
        public Dictionary<string, FileState> Before { get; } = new();
        public Dictionary<string, FileState> AfterOptOut { get; } = new();
        public Dictionary<string, FileState> AfterPatch { get; } = new();
        public Dictionary<string, FileState> AfterSecondPatch { get; } = new();
        public MsBuildRun OptOutRun { get; } = new(-1, "not run");
        public MsBuildRun PatchRun { get; } = new(-1, "not run");
        public MsBuildRun SecondPatchRun { get; } = new(-1, "not run");

        public string OutPath(string name) => Path.Combine(OutDir, name, "libLibTorchSharp.so");

        public Fixture()
        {
            if (!OperatingSystem.IsLinux())
                return;

            byte[] pristine = SyntheticElf.Build(new SyntheticElf.Options(), out int flagsOffset);
            SyntheticFlagsOffset = flagsOffset;
            var stamp = new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc);

            Write(CachePristine, pristine, stamp);
            Write(OutPath("runtimes/linux-x64/native"), pristine, stamp);
            File.SetUnixFileMode(OutPath("runtimes/linux-x64/native"),
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead);
            Write(OutPath("cpu"), pristine, stamp.AddDays(1));
            Write(OutPath("pkgs/torchsharp"), pristine, stamp);
            Write(OutPath("already-weak"), SyntheticElf.Build(new() { Weak = true }, out _), stamp);
            Write(OutPath("no-glibcxx-3.4.32"), SyntheticElf.Build(new() { IncludeGlibcxx332 = false }, out _), stamp);
            Write(OutPath("other-symbol-needs-3.4.32"), SyntheticElf.Build(new() { ExtraSymbolOnGlibcxx332 = true }, out _), stamp);
            Write(OutPath("bad-hash"), SyntheticElf.Build(new() { CorruptHash = true }, out _), stamp);
            Write(OutPath("aux-next-out-of-bounds"), SyntheticElf.Build(new() { BadAuxNext = true }, out _), stamp);
            Write(OutPath("string-index-out-of-bounds"), SyntheticElf.Build(new() { BadStringIndex = true }, out _), stamp);
            Write(OutPath("truncated"), pristine[..(pristine.Length / 2)], stamp);
            Write(OutPath("not-elf"), Encoding.ASCII.GetBytes("/* GNU ld script, not an ELF file */\nINPUT(libLibTorchSharp.so.1 libLibTorchSharp-extra.so.1)\n"), stamp);
            Write(OutPath("elf32"), With(pristine, 4, 1), stamp);
            Write(OutPath("big-endian"), With(pristine, 5, 2), stamp);

            Directory.CreateDirectory(Path.GetDirectoryName(OutPath("symlinked"))!);
            File.CreateSymbolicLink(OutPath("symlinked"), CachePristine);
            Write(CacheHardLink, pristine, stamp);
            Directory.CreateDirectory(Path.GetDirectoryName(OutPath("hardlinked"))!);
            NativeTestSupport.Run("ln", [CacheHardLink, OutPath("hardlinked")], Root).ExitCode.Should().Be(0);

            RealSource = NativeTestSupport.FindPristineTorchSharpLibrary();
            if (RealSource is not null)
            {
                RealCopy = OutPath("real");
                Directory.CreateDirectory(Path.GetDirectoryName(RealCopy)!);
                File.Copy(RealSource, RealCopy);
            }

            Snapshot(Before);
            OptOutRun = RunTargets("false");
            Snapshot(AfterOptOut);
            PatchRun = RunTargets("always");
            Snapshot(AfterPatch);
            SecondPatchRun = RunTargets("always");
            Snapshot(AfterSecondPatch);
        }

        private MsBuildRun RunTargets(string mode)
        {
            string project = Path.Combine(Root, "patch.proj");
            if (!File.Exists(project))
            {
                File.WriteAllText(project, $"""
                    <Project>
                      <Import Project="{NativeTestSupport.TargetsFile()}" />
                    </Project>
                    """);
            }
            var result = NativeTestSupport.Run(NativeTestSupport.DotnetHost(),
            [
                "msbuild", project, "-nologo", "-v:d", "-nodeReuse:false", "-noAutoResponse",
                "-t:DeepRetrievalPatchLibTorchSharpInOutDir",
                "-p:OutDir=" + OutDir + "/",
                "-p:NuGetPackageRoot=" + Path.Combine(OutDir, "pkgs") + "/",
                "-p:DeepRetrievalPatchLibTorchSharp=" + mode,
            ], Root, msbuildChild: true);
            return new MsBuildRun(result.ExitCode, result.Output);
        }

        private void Snapshot(Dictionary<string, FileState> into)
        {
            foreach (string path in Directory.EnumerateFiles(Root, "libLibTorchSharp.so", SearchOption.AllDirectories))
            {
                var info = new FileInfo(path);
                into[path] = new FileState(File.ReadAllBytes(path), File.GetLastWriteTimeUtc(path),
                    OperatingSystem.IsWindows() ? default : File.GetUnixFileMode(path), info.LinkTarget is not null);
            }
        }

        private static void Write(string path, byte[] bytes, DateTime lastWriteUtc)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, bytes);
            File.SetLastWriteTimeUtc(path, lastWriteUtc);
        }

        private static byte[] With(byte[] bytes, int offset, byte value)
        {
            byte[] copy = (byte[])bytes.Clone();
            copy[offset] = value;
            return copy;
        }

        public void Dispose()
        {
            try
            {
                if (Directory.Exists(Root))
                    Directory.Delete(Root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}

/// <summary>Builds a minimal ELF64 little-endian shared object with dynamic symbol versioning.</summary>
internal static class SyntheticElf
{
    public sealed record Options
    {
        public bool Weak { get; init; }
        public bool IncludeGlibcxx332 { get; init; } = true;
        public bool ExtraSymbolOnGlibcxx332 { get; init; }
        public bool CorruptHash { get; init; }
        public bool BadAuxNext { get; init; }
        public bool BadStringIndex { get; init; }
    }

    public static byte[] Build(Options o, out int flagsOffset)
    {
        var dynstr = new StringTable();
        uint libc = dynstr.Add("libc.so.6"), libstdcxx = dynstr.Add("libstdc++.so.6");
        uint glibc214 = dynstr.Add("GLIBC_2.14"), glibcxx34 = dynstr.Add("GLIBCXX_3.4"), glibcxx3432 = dynstr.Add("GLIBCXX_3.4.32");
        const ushort VGlibc = 2, VGlibcxx = 3, VGlibcxx32 = 4;

        // Symbols: (name, version index)
        var symbols = new List<(uint Name, ushort Version)>
        {
            (0, 0),
            (dynstr.Add("memcpy"), VGlibc),
            (dynstr.Add("_ZNSt8ios_base4InitC1Ev"), VGlibcxx),
            (dynstr.Add("_ZSt21ios_base_library_initv"), o.IncludeGlibcxx332 ? VGlibcxx32 : VGlibcxx),
        };
        if (o.ExtraSymbolOnGlibcxx332)
            symbols.Add((dynstr.Add("_ZSt28__throw_bad_array_new_lengthv"), VGlibcxx32));

        var shstr = new StringTable();
        uint nDynstr = shstr.Add(".dynstr"), nDynsym = shstr.Add(".dynsym"), nVersym = shstr.Add(".gnu.version"),
            nVerneed = shstr.Add(".gnu.version_r"), nShstr = shstr.Add(".shstrtab");

        var w = new Writer();
        w.Zero(64); // ELF header, filled at the end

        int dynstrOff = w.Position;
        w.Bytes(dynstr.ToArray());

        w.Align(8);
        int dynsymOff = w.Position;
        foreach (var (name, _) in symbols)
        {
            w.U32(name);
            w.U8(name == 0 ? (byte)0 : (byte)0x12); // STB_GLOBAL | STT_FUNC
            w.U8(0);
            w.U16(0); // SHN_UNDEF
            w.U64(0);
            w.U64(0);
        }
        int dynsymSize = w.Position - dynsymOff;

        w.Align(2);
        int versymOff = w.Position;
        foreach (var (_, version) in symbols)
            w.U16(version);
        int versymSize = w.Position - versymOff;

        w.Align(8);
        int verneedOff = w.Position;
        // libc.so.6: GLIBC_2.14
        w.U16(1); w.U16(1); w.U32(o.BadStringIndex ? 0x00ffffffu : libc); w.U32(16); w.U32(32);
        Aux(w, "GLIBC_2.14", glibc214, 0, VGlibc, next: 0, o.CorruptHash);
        // libstdc++.so.6: GLIBCXX_3.4 [, GLIBCXX_3.4.32]
        ushort count = o.IncludeGlibcxx332 ? (ushort)2 : (ushort)1;
        w.U16(1); w.U16(count); w.U32(libstdcxx); w.U32(16); w.U32(0);
        Aux(w, "GLIBCXX_3.4", glibcxx34, 0, VGlibcxx, next: count == 2 ? (o.BadAuxNext ? 0x7fff0000u : 16u) : 0u, corruptHash: false);
        flagsOffset = w.Position + 4;
        if (o.IncludeGlibcxx332)
            Aux(w, "GLIBCXX_3.4.32", glibcxx3432, o.Weak ? (ushort)2 : (ushort)0, VGlibcxx32, next: 0, corruptHash: false);
        int verneedSize = w.Position - verneedOff;

        int shstrOff = w.Position;
        w.Bytes(shstr.ToArray());

        w.Align(8);
        int shoff = w.Position;
        Section(w, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        Section(w, nDynstr, 3, 2, dynstrOff, dynstr.Length, 0, 0, 1, 0);
        Section(w, nDynsym, 11, 2, dynsymOff, dynsymSize, link: 1, info: 1, align: 8, entsize: 24);
        Section(w, nVersym, 0x6fffffff, 2, versymOff, versymSize, link: 2, info: 0, align: 2, entsize: 2);
        Section(w, nVerneed, 0x6ffffffe, 2, verneedOff, verneedSize, link: 1, info: 2, align: 8, entsize: 0);
        Section(w, nShstr, 3, 0, shstrOff, shstr.Length, 0, 0, 1, 0);

        byte[] bytes = w.ToArray();
        var h = new Writer();
        h.Bytes([0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0]);
        h.Zero(8);
        h.U16(3);    // ET_DYN
        h.U16(62);   // EM_X86_64
        h.U32(1);    // EV_CURRENT
        h.U64(0);    // e_entry
        h.U64(0);    // e_phoff
        h.U64((ulong)shoff);
        h.U32(0);    // e_flags
        h.U16(64);   // e_ehsize
        h.U16(0);    // e_phentsize
        h.U16(0);    // e_phnum
        h.U16(64);   // e_shentsize
        h.U16(6);    // e_shnum
        h.U16(5);    // e_shstrndx
        h.ToArray().CopyTo(bytes, 0);
        return bytes;
    }

    private static void Aux(Writer w, string name, uint nameOffset, ushort flags, ushort other, uint next, bool corruptHash)
    {
        w.U32(ElfHash(name) ^ (corruptHash ? 1u : 0u));
        w.U16(flags);
        w.U16(other);
        w.U32(nameOffset);
        w.U32(next);
    }

    private static void Section(Writer w, uint name, uint type, ulong flags, int offset, int size, uint link, uint info, ulong align, ulong entsize)
    {
        w.U32(name); w.U32(type); w.U64(flags); w.U64((ulong)offset); w.U64((ulong)offset); w.U64((ulong)size);
        w.U32(link); w.U32(info); w.U64(align); w.U64(entsize);
    }

    private static uint ElfHash(string name)
    {
        uint h = 0;
        foreach (char c in name)
        {
            h = (h << 4) + c;
            uint g = h & 0xf0000000;
            if (g != 0)
                h ^= g >> 24;
            h &= ~g;
        }
        return h;
    }

    private sealed class StringTable
    {
        private readonly List<byte> _bytes = [0];
        private readonly Dictionary<string, uint> _offsets = new();

        public int Length => _bytes.Count;

        public uint Add(string s)
        {
            if (_offsets.TryGetValue(s, out uint existing))
                return existing;
            uint offset = (uint)_bytes.Count;
            _bytes.AddRange(Encoding.ASCII.GetBytes(s));
            _bytes.Add(0);
            _offsets[s] = offset;
            return offset;
        }

        public byte[] ToArray() => [.. _bytes];
    }

    private sealed class Writer
    {
        private readonly MemoryStream _stream = new();

        public int Position => (int)_stream.Position;

        public void U8(byte v) => _stream.WriteByte(v);
        public void U16(ushort v) => Bytes(BitConverter.GetBytes(v));
        public void U32(uint v) => Bytes(BitConverter.GetBytes(v));
        public void U64(ulong v) => Bytes(BitConverter.GetBytes(v));
        public void Bytes(byte[] b) => _stream.Write(b);
        public void Zero(int n) => _stream.Write(new byte[n]);
        public void Align(int a) => Zero((a - Position % a) % a);
        public byte[] ToArray() => _stream.ToArray();
    }
}

internal static class NativeTestSupport
{
    private static readonly string[] LibStdCxxCandidates =
    [
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib/aarch64-linux-gnu/libstdc++.so.6", "/lib/aarch64-linux-gnu/libstdc++.so.6",
        "/usr/lib64/libstdc++.so.6", "/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6", "/lib/libstdc++.so.6",
    ];

    /// <summary>Same rule as the targets: the first libstdc++.so.6 found decides; none found counts as lacking.</summary>
    public static bool SystemLibStdCxxLacksGlibcxx332(out string? source)
    {
        string arch = RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "aarch64" : "x86_64";
        source = LibStdCxxCandidates.OrderBy(p => p.Contains(arch, StringComparison.Ordinal) ? 0 : 1).FirstOrDefault(File.Exists);
        if (source is null)
            return true;
        byte[] needle = Encoding.ASCII.GetBytes("GLIBCXX_3.4.32\0");
        return File.ReadAllBytes(source).AsSpan().IndexOf(needle) < 0;
    }

    /// <summary><c>readelf -V -W</c> output, or null when binutils is not installed.</summary>
    public static string? ReadelfVersionInfo(string path)
    {
        try
        {
            var result = Run("readelf", ["-V", "-W", path], Path.GetTempPath());
            return result.ExitCode == 0 ? result.Output : null;
        }
        catch (Win32Exception)
        {
            return null;
        }
    }

    /// <summary>The GLIBCXX_3.4.32 line of <c>readelf -V</c> output, or null when the file does not require it.</summary>
    public static string? Glibcxx332LineOrNull(string readelfOutput) =>
        readelfOutput.Split('\n').SingleOrDefault(l => l.Contains("Name: GLIBCXX_3.4.32", StringComparison.Ordinal));

    public static string Glibcxx332Line(string readelfOutput) =>
        Glibcxx332LineOrNull(readelfOutput) ?? throw new InvalidOperationException("no GLIBCXX_3.4.32 entry in:\n" + readelfOutput);

    public static string TargetsFile()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "src", "DeepRetrieval.Torch", "build", "DeepRetrieval.Torch.targets");
            if (File.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException("DeepRetrieval.Torch.targets not found above " + AppContext.BaseDirectory);
    }

    public static string DotnetHost()
    {
        string? fromEnv = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromEnv) && File.Exists(fromEnv))
            return fromEnv;
        string? process = Environment.ProcessPath;
        if (process is not null && Path.GetFileNameWithoutExtension(process) == "dotnet")
            return process;
        // <root>/shared/Microsoft.NETCore.App/<version>/ -> <root>/dotnet
        string root = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        string candidate = Path.Combine(root, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
        return File.Exists(candidate) ? candidate : "dotnet";
    }

    /// <summary>The untouched libLibTorchSharp.so of the TorchSharp package this project was built with.</summary>
    public static string? FindPristineTorchSharpLibrary()
    {
        string deps = Path.Combine(AppContext.BaseDirectory, typeof(NativeTestSupport).Assembly.GetName().Name + ".deps.json");
        if (!File.Exists(deps))
            return null;
        using var doc = JsonDocument.Parse(File.ReadAllText(deps));
        if (!doc.RootElement.TryGetProperty("libraries", out var libraries))
            return null;
        string? packagePath = libraries.EnumerateObject()
            .Where(p => p.Name.StartsWith("TorchSharp/", StringComparison.OrdinalIgnoreCase))
            .Select(p => p.Value.TryGetProperty("path", out var path) ? path.GetString() : null)
            .FirstOrDefault(p => p is not null);
        if (packagePath is null)
            return null;
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } env
            ? env
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string candidate = Path.Combine(packages, packagePath, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        return File.Exists(candidate) ? candidate : null;
    }

    public static (int ExitCode, string Output) Run(string fileName, IEnumerable<string> arguments, string workingDirectory, bool msbuildChild = false)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
            psi.ArgumentList.Add(argument);
        if (msbuildChild)
        {
            // Do not let the outer `dotnet test` build leak its MSBuild settings into the child build.
            foreach (string key in psi.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
                psi.Environment.Remove(key);
            psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
            psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            psi.Environment["DOTNET_NOLOGO"] = "1";
            psi.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        }

        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            return (-1, stdout + "\n(timed out)");
        }
        return (process.ExitCode, stdout + stderr.Result);
    }
}
