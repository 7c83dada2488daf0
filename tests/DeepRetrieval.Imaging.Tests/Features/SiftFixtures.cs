using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Text.Json;
using DeepRetrieval.Data;
using DeepRetrieval.Imaging.Features;

namespace DeepRetrieval.Imaging.Tests.Features;

/// <summary>
/// The SIFT fixtures written by Reference/make_sift_fixtures.py with OpenCV 4.6: two real photos downscaled to 320 pixels
/// wide in grey, one homography of each, and OpenCV's keypoints and descriptors for all four.
/// </summary>
internal static class SiftFixtures
{
    public sealed record Image(string Name, byte[] Pixels, int Width, int Height);

    public static string Directory([CallerFilePath] string sourceFile = "") => Path.Combine(Path.GetDirectoryName(sourceFile)!, "Fixtures");

    public static Image Load(string name)
    {
        using var file = File.OpenRead(Path.Combine(Directory(), name + ".pgm.gz"));
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var memory = new MemoryStream();
        gzip.CopyTo(memory);
        byte[] all = memory.ToArray();
        int position = 0;
        string Token()
        {
            while (char.IsWhiteSpace((char)all[position])) position++;
            int start = position;
            while (!char.IsWhiteSpace((char)all[position])) position++;
            return System.Text.Encoding.ASCII.GetString(all, start, position - start);
        }
        Token().Should().Be("P5");
        int width = int.Parse(Token()), height = int.Parse(Token());
        Token().Should().Be("255");
        position++;
        return new Image(name, all.AsSpan(position, width * height).ToArray(), width, height);
    }

    public static NpyArray Array(string name)
    {
        using var file = File.OpenRead(Path.Combine(Directory(), name + ".npy.gz"));
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var memory = new MemoryStream();
        gzip.CopyTo(memory);
        memory.Position = 0;
        return NpyReader.Read(memory, sourceName: name);
    }

    /// <summary>OpenCV's keypoints and descriptors for a fixture image.</summary>
    public static LocalFeatures OpenCv(string name)
    {
        Keypoint[] keypoints = Keypoints(name + ".keypoints");
        float[] descriptors = keypoints.Length == 0 ? [] : Array(name + ".descriptors").Data;
        return new LocalFeatures(keypoints, descriptors, 128);
    }

    public static Keypoint[] Keypoints(string arrayName)
    {
        NpyArray rows = Array(arrayName);
        var keypoints = new Keypoint[rows.Rows];
        for (int i = 0; i < rows.Rows; i++)
        {
            ReadOnlySpan<float> r = rows.Data.AsSpan(i * 6, 6);
            keypoints[i] = new Keypoint(r[0], r[1], r[2], r[3], r[4], (int)r[5]);
        }
        return keypoints;
    }

    public static JsonElement ImageMetadata(string baseName)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory(), "sift_fixtures.json")));
        return document.RootElement.GetProperty("images").GetProperty(baseName).Clone();
    }

    public static Homography HomographyOf(string baseName) =>
        Imaging.Features.Homography.FromRowMajor(ImageMetadata(baseName).GetProperty("homography").EnumerateArray().Select(v => v.GetDouble()).ToArray());

    /// <summary>
    /// For each reference keypoint, the index of a keypoint of <paramref name="ours"/> within 1 pixel and 10% size (and,
    /// among those, the closest angle); −1 when none.
    /// </summary>
    public static int[] Agreement(IReadOnlyList<Keypoint> reference, IReadOnlyList<Keypoint> ours)
    {
        var result = new int[reference.Count];
        for (int i = 0; i < reference.Count; i++)
        {
            Keypoint r = reference[i];
            int best = -1;
            double bestAngle = double.MaxValue;
            for (int j = 0; j < ours.Count; j++)
            {
                Keypoint o = ours[j];
                double dx = o.X - r.X, dy = o.Y - r.Y;
                if (dx * dx + dy * dy > 1 || Math.Abs(o.Size - r.Size) > 0.1 * r.Size) continue;
                double angle = Math.Abs((o.Angle - r.Angle + 540) % 360 - 180);
                if (angle < bestAngle) (best, bestAngle) = (j, angle);
            }
            result[i] = best;
        }
        return result;
    }
}
