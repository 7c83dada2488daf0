using System.Formats.Tar;
using System.IO.Compression;
using DeepRetrieval.Data;

namespace DeepRetrieval.Datasets;

/// <summary>
/// Unpacks the archives datasets ship as (<c>.tar</c>, <c>.tar.gz</c>/<c>.tgz</c>, <c>.zip</c>) safely: only regular
/// files and directories, every path kept inside the destination (no <c>..</c>, no absolute paths, no links), and the
/// whole tree written under a temporary sibling that is renamed into place at the end, so an interrupted extraction
/// never looks complete.
/// </summary>
internal static class ArchiveExtractor
{
    /// <summary>Extracts <paramref name="archive"/> so that its content ends up under <paramref name="destination"/>.</summary>
    /// <exception cref="InvalidDataException">The archive is corrupt or holds an entry that would escape the destination.</exception>
    public static void Extract(string archive, string destination, CancellationToken cancellationToken = default)
    {
        string full = Path.GetFullPath(destination);
        string temporary = full + $".{Guid.NewGuid():N}.extracting";
        Directory.CreateDirectory(temporary);
        try
        {
            if (archive.EndsWith(".zip", StringComparison.OrdinalIgnoreCase)) ExtractZip(archive, temporary, cancellationToken);
            else ExtractTar(archive, temporary, cancellationToken);
            MergeInto(temporary, full);
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new InvalidDataException($"'{archive}' is not a readable archive: {ex.Message}", ex);
        }
        finally
        {
            if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
        }
    }

    private static void ExtractTar(string archive, string root, CancellationToken cancellationToken)
    {
        using FileStream file = DataStreams.OpenRead(archive);
        using Stream content = DataStreams.OpenMaybeGzip(file, archive, out _);
        using var reader = new TarReader(content);
        TarEntry? entry;
        while ((entry = reader.GetNextEntry()) is not null)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string target = SafePath(root, entry.Name, archive);
            switch (entry.EntryType)
            {
                case TarEntryType.Directory:
                    Directory.CreateDirectory(target);
                    break;
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    entry.ExtractToFile(target, overwrite: true);
                    break;
                case TarEntryType.GlobalExtendedAttributes or TarEntryType.ExtendedAttributes:
                    break;
                default:
                    throw new InvalidDataException($"'{archive}' holds '{entry.Name}' of type {entry.EntryType}; only files and directories are extracted.");
            }
        }
    }

    private static void ExtractZip(string archive, string root, CancellationToken cancellationToken)
    {
        using ZipArchive zip = ZipFile.OpenRead(archive);
        foreach (ZipArchiveEntry entry in zip.Entries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string target = SafePath(root, entry.FullName, archive);
            if (entry.FullName.EndsWith('/'))
            {
                Directory.CreateDirectory(target);
                continue;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            entry.ExtractToFile(target, overwrite: true);
        }
    }

    private static string SafePath(string root, string name, string archive)
    {
        string relative = name.Replace('\\', '/');
        while (relative.StartsWith("./", StringComparison.Ordinal)) relative = relative[2..];
        if (relative.StartsWith('/') || Path.IsPathRooted(relative))
            throw new InvalidDataException($"'{archive}' holds the absolute path '{name}'.");
        string target = Path.GetFullPath(Path.Combine(root, relative));
        if (!target.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) && target != root)
            throw new InvalidDataException($"'{archive}' holds '{name}', which would be written outside the destination.");
        return target;
    }

    private static void MergeInto(string source, string destination)
    {
        if (!Directory.Exists(destination))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            Directory.Move(source, destination);
            return;
        }

        foreach (string directory in Directory.GetDirectories(source, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(destination, Path.GetRelativePath(source, directory)));
        foreach (string file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
            File.Move(file, Path.Combine(destination, Path.GetRelativePath(source, file)), overwrite: true);
    }
}
