namespace DeepRetrieval.Samples.Tests.CopyDetection;

/// <summary>The photo folders the tests use: the packages .ci/run installs (KDE Plasma's large wallpapers are left out).</summary>
internal static class DebianPhotos
{
    public static readonly string[] Folders =
    [
        "/usr/share/backgrounds/gnome",
        "/usr/share/backgrounds/mate",
        "/usr/lib/python3/dist-packages/skimage/data",
    ];

    /// <summary>Fails with the fix when a package is missing (a silent skip would let the recall floors go unchecked).</summary>
    public static void Require()
    {
        foreach (string folder in Folders)
        {
            Directory.Exists(folder).Should().BeTrue(
                $"the copy-detection tests read the photos in {folder}; install gnome-backgrounds, mate-backgrounds and python3-skimage (as .ci/run does)");
        }
    }

    /// <summary>A fresh folder under the temporary directory, deleted by the caller.</summary>
    public static string TemporaryFolder()
    {
        string path = Path.Combine(Path.GetTempPath(), "deepretrieval-copy-detection-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}
