using System.Diagnostics;
using DeepRetrieval.Indexes;

namespace DeepRetrieval.Tests;

/// <summary>
/// Issue 16, finding 6: atomic saves left debris and widened permissions. On main, a flush that failed as on a full disk
/// threw again from <c>Dispose</c> before the temporary file was deleted (it stayed, as big as the partial save);
/// temporaries of a killed process stayed forever; and saving over a 0600 file left it 0644 (the new file got the
/// umask's mode). A symbolic link was replaced by a regular file.
/// </summary>
public sealed class AtomicFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("atomic-file-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string[] Temporaries() => Directory.GetFiles(_folder, "*.tmp");

    // A file stream whose flush fails as on a full disk (ENOSPC), including the flush FileStream makes when disposed.
    private sealed class FullDiskStream(FileStream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
        public override void Flush() => throw new IOException("No space left on device");
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            inner.Dispose();
            base.Dispose(disposing);
            if (disposing) throw new IOException("No space left on device");
        }
    }

    private static AtomicFile FullDisk(string path) => new(path, (temp, options) => new FullDiskStream(new FileStream(temp, options)));

    [Fact]
    public void Write_ReplacesTheFileWhole_AndLeavesItUntouchedWhenTheWriterThrows()
    {
        string path = Path.Combine(_folder, "report.csv");
        AtomicFile.Write(path, stream => stream.Write("first"u8));
        File.ReadAllText(path).Should().Be("first");

        Action failing = () => AtomicFile.Write(path, stream =>
        {
            stream.Write("half of the sec"u8);
            throw new InvalidOperationException("the writer failed");
        });

        failing.Should().Throw<InvalidOperationException>().WithMessage("the writer failed");
        File.ReadAllText(path).Should().Be("first");
        Temporaries().Should().BeEmpty();
        ((Action)(() => AtomicFile.Write(path, null!))).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void Commit_WhenTheFlushFailsAsOnAFullDisk_DeletesTheTemporary_KeepsTheTarget_AndSurfacesTheError()
    {
        string path = Path.Combine(_folder, "index.drix");
        File.WriteAllText(path, "previous");
        using (AtomicFile file = FullDisk(path))
        {
            file.Stream.Write(new byte[100_000]);
            FluentActions.Invoking(file.Commit).Should().Throw<IOException>().WithMessage("No space left on device");
            Temporaries().Should().BeEmpty("a failed commit deletes its temporary at once");
        }
        Temporaries().Should().BeEmpty();
        File.ReadAllText(path).Should().Be("previous");
    }

    [Fact]
    public void Dispose_WithoutCommit_WhenClosingFails_DeletesTheTemporary_WithoutThrowing()
    {
        string path = Path.Combine(_folder, "vectors.fvecs");
        AtomicFile file = FullDisk(path);
        file.Stream.Write(new byte[10]);
        FluentActions.Invoking(file.Dispose).Should().NotThrow("the content is abandoned, so a failed flush of it must not mask the caller's exception");
        Temporaries().Should().BeEmpty();
        File.Exists(path).Should().BeFalse();
        FluentActions.Invoking(file.Commit).Should().Throw<InvalidOperationException>().WithMessage("*disposed*");
    }

    [Fact]
    public void Commit_Twice_Throws()
    {
        using var file = new AtomicFile(Path.Combine(_folder, "a.bin"));
        file.Stream.WriteByte(1);
        file.Commit();
        FluentActions.Invoking(file.Commit).Should().Throw<InvalidOperationException>().WithMessage("*already committed*");
    }

    [Fact]
    public void TheNextSave_RemovesTemporariesOfKilledProcesses_AndKeepsThoseOfRunningSaves()
    {
        string path = Path.Combine(_folder, "gallery.drix");
        int dead = DeadProcessId();
        string orphan = $"{path}.{dead}.{Guid.NewGuid():N}.tmp";                 // kill -9 during a save
        string oldNaming = $"{path}.{Guid.NewGuid():N}.tmp";                     // main's naming, from before this process
        string running = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp"; // a save of this process, under way
        string recentOldNaming = $"{path}.{Guid.NewGuid():N}.tmp";               // could be an older library saving now
        string otherTarget = $"{Path.Combine(_folder, "other.drix")}.{dead}.{Guid.NewGuid():N}.tmp";
        string notOurs = $"{path}.backup.tmp";
        foreach (string file in new[] { orphan, oldNaming, running, recentOldNaming, otherTarget, notOurs }) File.WriteAllText(file, "partial");
        File.SetLastWriteTimeUtc(oldNaming, DateTime.UtcNow.AddDays(-3));
        File.SetLastWriteTimeUtc(orphan, DateTime.UtcNow.AddDays(-3));

        IndexFile.Save(new FlatIndex(4), path);

        File.Exists(orphan).Should().BeFalse("its process is gone");
        File.Exists(oldNaming).Should().BeFalse("it was last written before this process started");
        File.Exists(running).Should().BeTrue();
        File.Exists(recentOldNaming).Should().BeTrue();
        File.Exists(otherTarget).Should().BeTrue("only temporaries of the same target are touched");
        File.Exists(notOurs).Should().BeTrue("only our own naming pattern is touched");
        IndexFile.Load(path).Count.Should().Be(0);
    }

    [Theory]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite)]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite)]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead)]
    public void Replacing_KeepsTheTargetsPermissions(UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows()) return; // Unix permission bits only
        string path = Path.Combine(_folder, "private.drix");
        File.WriteAllText(path, "old");
        File.SetUnixFileMode(path, mode);
        var index = new FlatIndex(4);
        index.Add([1f, 2f, 3f, 4f]);
        IndexFile.Save(index, path);
        File.GetUnixFileMode(path).Should().Be(mode);
        IndexFile.Load(path).Count.Should().Be(1);
    }

    [Fact]
    public void SavingThroughASymbolicLink_ReplacesTheFileItPointsTo_AndKeepsTheLink()
    {
        if (OperatingSystem.IsWindows()) return; // creating links needs privileges there
        Directory.CreateDirectory(Path.Combine(_folder, "store"));
        string real = Path.Combine(_folder, "store", "current.drix");
        string link = Path.Combine(_folder, "gallery.drix");
        File.WriteAllText(real, "old");
        File.CreateSymbolicLink(link, Path.Combine("store", "current.drix")); // relative, as ln -s makes them

        using (var file = new AtomicFile(link))
        {
            file.TargetPath.Should().Be(real);
            file.Stream.Write("new"u8);
            file.Commit();
        }
        new FileInfo(link).LinkTarget.Should().Be(Path.Combine("store", "current.drix"), "the link itself is kept");
        File.ReadAllText(real).Should().Be("new");
        File.ReadAllText(link).Should().Be("new");

        string dangling = Path.Combine(_folder, "dangling.drix");
        File.CreateSymbolicLink(dangling, Path.Combine(_folder, "store", "next.drix"));
        IndexFile.Save(new FlatIndex(4), dangling);
        File.Exists(Path.Combine(_folder, "store", "next.drix")).Should().BeTrue("a dangling link gets its target created");
        new FileInfo(dangling).LinkTarget.Should().NotBeNull();
    }

    // The id of a process that has exited: start a short one and wait for it.
    private static int DeadProcessId()
    {
        using Process process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        process.WaitForExit();
        return process.Id;
    }
}
