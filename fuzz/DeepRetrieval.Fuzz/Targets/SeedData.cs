namespace DeepRetrieval.Fuzz.Targets;

/// <summary>Deterministic vectors for building the seed files (the same bytes on every run).</summary>
internal static class SeedData
{
    public static float[] Vectors(int count, int dimension, int seed)
    {
        var random = new Random(seed);
        var values = new float[count * dimension];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }

    public static byte[] Codes(int count, int bytes, int seed)
    {
        var codes = new byte[count * bytes];
        new Random(seed).NextBytes(codes);
        return codes;
    }

    public static byte[] ToBytes(Action<Stream> write)
    {
        using var stream = new MemoryStream();
        write(stream);
        return stream.ToArray();
    }

    /// <summary>
    /// The repository root (the folder holding DeepRetrieval.sln) above the program or the working directory, for seeds that
    /// are committed test fixtures.
    /// </summary>
    public static string RepositoryRoot()
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "DeepRetrieval.sln")))
                    return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException($"No DeepRetrieval.sln above {AppContext.BaseDirectory} or {Environment.CurrentDirectory}; run the fuzzer from the repository.");
    }

    public static (string Name, byte[] Bytes) Fixture(params string[] relativePath)
    {
        string path = Path.Combine([RepositoryRoot(), .. relativePath]);
        return (Path.GetFileName(path), File.ReadAllBytes(path));
    }
}
