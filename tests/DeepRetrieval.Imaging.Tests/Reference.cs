using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DeepRetrieval.Imaging.Tests;

/// <summary>
/// The expected values in Reference/fixtures.json, written by Reference/make_fixtures.py from PIL 9.4, OpenCV 4.6,
/// torchvision 0.14 and imagehash 4.3.2 run on photos that Debian packages ship (each entry names its package).
/// </summary>
internal static class Reference
{
    private static readonly Lazy<Fixtures> Loaded = new(() =>
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Reference", "fixtures.json");
        return JsonSerializer.Deserialize<Fixtures>(File.ReadAllText(path), new JsonSerializerOptions { PropertyNameCaseInsensitive = true })
            ?? throw new InvalidDataException("fixtures.json is empty.");
    });

    public static Fixtures Data => Loaded.Value;

    public static Photo Photo(string name)
    {
        Photo photo = Data.Photos[name];
        if (!File.Exists(photo.Path))
            throw new InvalidOperationException($"Test photo '{photo.Path}' is missing: install the Debian package {photo.Package} (.ci/run does).");
        return photo;
    }

    public static IEnumerable<object[]> PhotoNames(Func<Photo, bool>? where = null) =>
        Data.Photos.Where(p => where?.Invoke(p.Value) ?? true).Select(p => new object[] { p.Key });

    public static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static string Sha256(PixelImage image) => Sha256(image.Pixels);
}

internal sealed record Fixtures(Dictionary<string, Photo> Photos, Dictionary<string, SmallFile> Files, Dictionary<string, OrientedFile> Orientations);

internal sealed record Photo(
    string Path, string Package, string Mode, int Width, int Height,
    [property: JsonPropertyName("rgb_sha256")] string RgbSha256,
    [property: JsonPropertyName("rgb_samples")] int[][] RgbSamples,
    [property: JsonPropertyName("grey_sha256")] string GreySha256,
    List<ResizeCase> Resizes,
    [property: JsonPropertyName("rgba_resizes")] List<ResizeCase>? RgbaResizes,
    [property: JsonPropertyName("linear_exact")] List<LinearCase>? LinearExact,
    LetterboxCase? Letterbox,
    ImageNetCase? ImageNet,
    Dictionary<string, string>? Hashes,
    [property: JsonPropertyName("draft224")] DraftCase? Draft224)
{
    public bool IsJpeg => Path.EndsWith(".jpg", StringComparison.Ordinal);
}

internal sealed record ResizeCase(int Width, int Height, string Filter, string Mode, string Sha256, int[][] Samples);

internal sealed record LinearCase(
    int Width, int Height, string Sha256,
    [property: JsonPropertyName("linear_samples")] int[][] LinearSamples,
    [property: JsonPropertyName("torch_samples")] int[][] TorchSamples);

internal sealed record LetterboxCase(int Width, int Height, string Filter, string Sha256);

internal sealed record ImageNetCase(
    [property: JsonPropertyName("resized_width")] int ResizedWidth,
    [property: JsonPropertyName("resized_height")] int ResizedHeight,
    [property: JsonPropertyName("crop_sha256")] string CropSha256,
    double[][] Values);

internal sealed record DraftCase(int Width, int Height, string Sha256);

internal sealed record SmallFile(string Base64, int Width, int Height, [property: JsonPropertyName("rgb_sha256")] string RgbSha256)
{
    public byte[] Bytes => Convert.FromBase64String(Base64);
}

internal sealed record OrientedFile(
    string Base64,
    [property: JsonPropertyName("stored_sha256")] string StoredSha256,
    [property: JsonPropertyName("upright_width")] int UprightWidth,
    [property: JsonPropertyName("upright_height")] int UprightHeight,
    [property: JsonPropertyName("upright_sha256")] string UprightSha256)
{
    public byte[] Bytes => Convert.FromBase64String(Base64);
}
