using SkiaSharp;

namespace DeepRetrieval.Torch.Tests.Data;

/// <summary>
/// A temporary folder of generated images laid out <c>root/class{c}/img{i:D5}.png|jpg</c>: image i belongs to class i mod
/// classes, is tinted with its class's colour and carries a diagonal stripe pattern that depends on i, so every image differs.
/// </summary>
internal sealed class GeneratedImageFolder : IDisposable
{
    private static readonly (byte R, byte G, byte B)[] Tints = [(220, 40, 40), (40, 200, 60), (50, 70, 230), (230, 210, 40), (200, 60, 220), (40, 210, 210)];

    public GeneratedImageFolder(int count, int classes, int width, int height, SKEncodedImageFormat format = SKEncodedImageFormat.Png)
    {
        Root = Path.Combine(Path.GetTempPath(), "dr-generated-" + Guid.NewGuid().ToString("N"));
        for (int c = 0; c < classes; c++) Directory.CreateDirectory(Path.Combine(Root, $"class{c}"));
        string extension = format == SKEncodedImageFormat.Jpeg ? ".jpg" : ".png";
        var files = new string[count];
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int i = 0; i < count; i++)
        {
            int label = i % classes;
            Paint(bitmap.GetPixelSpan(), width, height, Tints[label % Tints.Length], i);
            files[i] = Path.Combine(Root, $"class{label}", $"img{i:D5}{extension}");
            using SKData data = bitmap.Encode(format, 90);
            File.WriteAllBytes(files[i], data.ToArray());
        }
        Files = files;
    }

    public string Root { get; }

    /// <summary>Every file, by generation index i (class i mod classes).</summary>
    public IReadOnlyList<string> Files { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void Paint(Span<byte> rgba, int width, int height, (byte R, byte G, byte B) tint, int index)
    {
        int period = 3 + index % 7, phase = index / 7;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                bool stripe = (x + y + phase) % period < period / 2;
                int at = (y * width + x) * 4;
                rgba[at] = (byte)(stripe ? tint.R : tint.R / 3);
                rgba[at + 1] = (byte)(stripe ? tint.G : tint.G / 3);
                rgba[at + 2] = (byte)(stripe ? tint.B : tint.B / 3 + (x * 2) % 40);
                rgba[at + 3] = 255;
            }
        }
    }
}
