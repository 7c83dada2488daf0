namespace DeepRetrieval.Datasets;

/// <summary>
/// One image of a dataset with its label: either a file on disk (<see cref="Path"/>) or pixels in memory
/// (<see cref="Pixels"/>, for MNIST and CIFAR), never neither.
/// </summary>
public sealed record DatasetImage
{
    /// <summary>Creates an image backed by a file.</summary>
    /// <param name="name">Identifier within the dataset (e.g. its relative path or id).</param>
    /// <param name="label">Class, landmark or identity; −1 when the image has none.</param>
    /// <param name="path">The image file.</param>
    public DatasetImage(string name, int label, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(path);
        Name = name;
        Label = label;
        Path = path;
    }

    /// <summary>Creates an image held in memory.</summary>
    /// <param name="name">Identifier within the dataset.</param>
    /// <param name="label">Class; −1 when the image has none.</param>
    /// <param name="pixels">The pixels.</param>
    public DatasetImage(string name, int label, RawImage pixels)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(pixels);
        Name = name;
        Label = label;
        Pixels = pixels;
    }

    /// <summary>Identifier within the dataset.</summary>
    public string Name { get; }

    /// <summary>Class, landmark or identity; −1 when the image has none.</summary>
    public int Label { get; }

    /// <summary>The image file, or null for an image held in memory.</summary>
    public string? Path { get; }

    /// <summary>The pixels, or null for an image on disk.</summary>
    public RawImage? Pixels { get; }

    /// <summary>The camera that took the image (re-identification datasets); null elsewhere.</summary>
    public int? Camera { get; init; }
}
