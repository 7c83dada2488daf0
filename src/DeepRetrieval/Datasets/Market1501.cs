using System.Globalization;
using System.Text.RegularExpressions;

namespace DeepRetrieval.Datasets;

/// <summary>
/// Market-1501 (Zheng et al., ICCV 2015): pedestrian crops named <c>IIII_cCsS_FFFFFF_NN.jpg</c> — identity I (−1 for
/// junk, 0 for distractors), camera C — in <c>bounding_box_train</c>, <c>query</c> and <c>bounding_box_test</c> (the
/// gallery). The dataset is distributed through Google Drive, which this loader cannot fetch: unpack
/// <c>Market-1501-v15.09.15.zip</c> into the dataset folder.
/// </summary>
public static partial class Market1501
{
    /// <summary>Reads identity and camera from a Market-1501 file name.</summary>
    /// <param name="fileName">E.g. <c>0002_c1s1_000451_03.jpg</c> or <c>-1_c3s2_001234_02.jpg</c>.</param>
    /// <exception cref="FormatException">The name does not follow the Market-1501 pattern.</exception>
    public static (int Identity, int Camera) ParseFileName(string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        Match match = NamePattern().Match(Path.GetFileName(fileName));
        if (!match.Success) throw new FormatException($"'{fileName}' does not follow Market-1501's IIII_cCsS_FFFFFF_NN.jpg naming.");
        return (int.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture), int.Parse(match.Groups[2].ValueSpan, CultureInfo.InvariantCulture));
    }

    /// <summary>Loads the three splits; each image's label is its identity and <see cref="DatasetImage.Camera"/> its camera.</summary>
    /// <param name="directory">The unpacked dataset (holding <c>bounding_box_train</c>, <c>query</c>, <c>bounding_box_test</c>), or a folder holding it.</param>
    /// <exception cref="DirectoryNotFoundException">A split folder is missing.</exception>
    /// <exception cref="InvalidDataException">A file name does not follow the pattern.</exception>
    public static (ImageCollection Train, ImageCollection Query, ImageCollection Gallery) Load(string directory)
    {
        const string how = "Unpack Market-1501-v15.09.15.zip (distributed through Google Drive) there.";
        DatasetFolders.Require(directory, "Market-1501", how);
        string root = Directory.Exists(Path.Combine(directory, "query")) ? directory
            : DatasetFolders.Subdirectories(directory).FirstOrDefault(d => Directory.Exists(Path.Combine(d, "query")))
              ?? throw new DirectoryNotFoundException($"Market-1501: '{directory}' holds no query/ folder. {how}");
        return (Split(root, "bounding_box_train", how), Split(root, "query", how), Split(root, "bounding_box_test", how));
    }

    private static ImageCollection Split(string root, string split, string how)
    {
        string folder = Path.Combine(root, split);
        DatasetFolders.Require(folder, "Market-1501", how);
        var images = new List<DatasetImage>();
        foreach (string file in DatasetFolders.Images(folder))
        {
            (int identity, int camera) = ParseFileNameOrInvalid(file);
            images.Add(new DatasetImage($"{split}/{Path.GetFileName(file)}", identity, file) { Camera = camera });
        }

        return new ImageCollection($"market1501/{split}", images, []);
    }

    private static (int, int) ParseFileNameOrInvalid(string file)
    {
        try
        {
            return ParseFileName(file);
        }
        catch (FormatException ex)
        {
            throw new InvalidDataException(ex.Message, ex);
        }
    }

    [GeneratedRegex(@"^(-1|\d+)_c(\d)s\d+_\d+_\d+\.(jpg|jpeg|png)$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex NamePattern();
}
