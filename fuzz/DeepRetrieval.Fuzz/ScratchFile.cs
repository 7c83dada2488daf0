namespace DeepRetrieval.Fuzz;

/// <summary>
/// One file per process and target for loaders that only take a path: each input overwrites it. Kept in /dev/shm when it
/// exists so millions of inputs do not touch the disk.
/// </summary>
internal static class ScratchFile
{
    private static readonly string Folder = CreateFolder();

    public static string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(Folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static string CreateFolder()
    {
        string root = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        string folder = Path.Combine(root, $"deepretrieval-fuzz-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(folder, recursive: true); }
            catch (IOException) { }
        };
        return folder;
    }
}
