using System.Text.Json;
using DeepRetrieval.Data;
using DeepRetrieval.Imaging.Features;

namespace DeepRetrieval.ClassicalBench;

/// <summary>The pair-matching set written by <c>opencv_peer.py prepare</c>: grey images, homographies and OpenCV's SIFT.</summary>
internal sealed class BenchData
{
    public sealed record Image(string Name, byte[] Pixels, int Width, int Height);

    public sealed record Query(string Name, string Database, int View, Homography DatabaseToQuery);

    private readonly string _directory;
    private readonly Dictionary<string, Image> _images = [];

    private BenchData(string directory, string[] database, string[] distractors, Query[] queries)
    {
        _directory = directory;
        Database = database;
        Distractors = distractors;
        Queries = queries;
    }

    public string[] Database { get; }

    public string[] Distractors { get; }

    public Query[] Queries { get; }

    public static BenchData Load(string directory)
    {
        string manifest = Path.Combine(directory, "manifest.json");
        if (!File.Exists(manifest))
            throw new FileNotFoundException($"No {manifest}: run `/usr/bin/python3 opencv_peer.py prepare {directory}` first.");
        using var document = JsonDocument.Parse(File.ReadAllText(manifest));
        JsonElement root = document.RootElement;
        string[] Names(string property) => root.GetProperty(property).EnumerateArray().Select(e => e.GetProperty("name").GetString()!).ToArray();
        Query[] queries = root.GetProperty("queries").EnumerateArray().Select(e => new Query(
            e.GetProperty("name").GetString()!, e.GetProperty("database").GetString()!, e.GetProperty("view").GetInt32(),
            Homography.FromRowMajor(e.GetProperty("homography").EnumerateArray().Select(v => v.GetDouble()).ToArray()))).ToArray();
        return new BenchData(directory, Names("database"), Names("distractors"), queries);
    }

    public string Directory => _directory;

    public Image Read(string name)
    {
        if (_images.TryGetValue(name, out Image? cached)) return cached;
        byte[] all = File.ReadAllBytes(Path.Combine(_directory, "images", name + ".pgm"));
        int position = 0;
        string Token()
        {
            while (char.IsWhiteSpace((char)all[position])) position++;
            int start = position;
            while (!char.IsWhiteSpace((char)all[position])) position++;
            return System.Text.Encoding.ASCII.GetString(all, start, position - start);
        }
        if (Token() != "P5") throw new InvalidDataException($"{name}.pgm is not a binary PGM.");
        int width = int.Parse(Token()), height = int.Parse(Token());
        Token();
        position++;
        var image = new Image(name, all.AsSpan(position, width * height).ToArray(), width, height);
        _images[name] = image;
        return image;
    }

    public LocalFeatures OpenCv(string name)
    {
        NpyArray rows = NpyReader.Read(Path.Combine(_directory, "opencv", name + ".keypoints.npy"));
        var keypoints = new Keypoint[rows.Rows];
        for (int i = 0; i < rows.Rows; i++)
        {
            ReadOnlySpan<float> r = rows.Data.AsSpan(i * 6, 6);
            keypoints[i] = new Keypoint(r[0], r[1], r[2], r[3], r[4], (int)r[5]);
        }
        float[] descriptors = keypoints.Length == 0 ? [] : NpyReader.Read(Path.Combine(_directory, "opencv", name + ".descriptors.npy")).Data;
        return new LocalFeatures(keypoints, descriptors, 128);
    }
}
