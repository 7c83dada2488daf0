using DeepRetrieval.Imaging;
using DeepRetrieval.Imaging.Processing;
using SkiaSharp;

namespace DeepRetrieval.Samples.CopyDetection.Copies;

/// <summary>
/// The edits of the benchmark, in the spirit of the ISC 2021 query set (Douze et al., "The 2021 Image Similarity Dataset
/// and Challenge"): geometric (crops, scaling, rotation, flips), photometric (JPEG, colour, brightness, contrast, grey,
/// blur, noise) and overlays (text, the photo pasted onto another background), and one combination. Every random choice
/// comes from the <see cref="Random"/> given, so a copy is a function of (original, edit, seed).
/// </summary>
internal static class CopyTransforms
{
    /// <summary>The JPEG quality every copy is stored with unless the edit is the re-encoding itself.</summary>
    public const int StorageQuality = 92;

    private static readonly string[] Words =
    [
        "SALE", "COPY", "#holiday", "LOL", "DeepRetrieval", "2026", "look!", "free", "@user", "wow", "SAMPLE", "meme",
    ];

    /// <summary>Every edit, in report order.</summary>
    public static IReadOnlyList<CopyTransform> All { get; } =
    [
        new("crop-center", "central crop, 60–70% of each side", (image, random) => Keep(CropCenter(image, random))),
        new("crop-offset", "off-centre crop, 50–65% of each side", (image, random) => Keep(CropOffset(image, random))),
        new("scale-down", "shrunk to 20–30% of each side", (image, random) => Keep(Scale(image, 0.2 + 0.1 * random.NextDouble()))),
        new("rotate-small", "rotated 5–12° either way, black corners", (image, random) => Keep(Rotate(image, Signed(random, 5, 12)))),
        new("rotate-90", "a quarter turn counter-clockwise", (image, _) => Keep(image.RotateCounterClockwise(1))),
        new("flip", "mirrored left to right", (image, _) => Keep(image.FlipHorizontal())),
        new("jpeg-10", "re-encoded as JPEG at quality 10", (image, _) => new(image, 10)),
        new("hue", "hue turned 90–150°, saturation ×1.3", (image, random) => Keep(Recolour(image, Hue(Signed(random, 90, 150), 1.3f)))),
        new("brightness", "brightened by 25–35% of the range", (image, random) => Keep(Recolour(image, Brightness(0.25f + 0.1f * random.NextSingle())))),
        new("contrast", "contrast lowered to 40–50%", (image, random) => Keep(Recolour(image, Contrast(0.4f + 0.1f * random.NextSingle())))),
        new("grey", "converted to grey", (image, _) => Keep(image.ConvertTo(PixelFormat.Gray8).ConvertTo(PixelFormat.Rgb24))),
        new("blur", "Gaussian blur, σ = 0.6–0.9% of the longer side", (image, random) => Keep(Blur(image, (0.006f + 0.003f * random.NextSingle()) * Math.Max(image.Width, image.Height)))),
        new("noise", "Gaussian noise, σ = 20–30 grey levels", (image, random) => Keep(Noise(image, random, 20 + 10 * random.NextDouble()))),
        new("text", "a caption band and 3–5 large words over the photo", (image, random) => Keep(Text(image, random))),
        new("overlay", "shrunk to 50–65% and pasted onto a synthetic background", (image, random) => Keep(Overlay(image, random))),
        new("combined", "off-centre crop 75–90%, brighter, hue turned 20–40°, JPEG quality 30", (image, random) => new(Combined(image, random), 30)),
    ];

    /// <summary>The edit of that name.</summary>
    /// <exception cref="ArgumentException">No edit has that name.</exception>
    public static CopyTransform Get(string name) =>
        All.FirstOrDefault(t => t.Name == name)
        ?? throw new ArgumentException($"Unknown transform '{name}'; known: {string.Join(", ", All.Select(t => t.Name))}.", nameof(name));

    private static TransformedCopy Keep(PixelImage image) => new(image, StorageQuality);

    private static double Signed(Random random, double min, double max) => (random.Next(2) == 0 ? -1 : 1) * (min + (max - min) * random.NextDouble());

    private static PixelImage CropCenter(PixelImage image, Random random)
    {
        double fraction = 0.6 + 0.1 * random.NextDouble();
        int width = (int)Math.Round(image.Width * fraction), height = (int)Math.Round(image.Height * fraction);
        return image.CenterCrop(width, height);
    }

    private static PixelImage CropOffset(PixelImage image, Random random) => RandomCrop(image, random, 0.5, 0.65);

    private static PixelImage RandomCrop(PixelImage image, Random random, double min, double max)
    {
        int width = (int)Math.Round(image.Width * (min + (max - min) * random.NextDouble()));
        int height = (int)Math.Round(image.Height * (min + (max - min) * random.NextDouble()));
        return image.Crop(random.Next(image.Width - width + 1), random.Next(image.Height - height + 1), width, height);
    }

    private static PixelImage Scale(PixelImage image, double factor) =>
        image.Resize(Math.Max(1, (int)Math.Round(image.Width * factor)), Math.Max(1, (int)Math.Round(image.Height * factor)), ResizeFilter.Bilinear);

    private static PixelImage Rotate(PixelImage image, double degrees) =>
        SkiaInterop.Draw(image, (canvas, source) =>
        {
            canvas.RotateDegrees((float)degrees, source.Width / 2f, source.Height / 2f);
            using SKImage picture = SKImage.FromBitmap(source);
            canvas.DrawImage(picture, 0, 0, new SKSamplingOptions(SKFilterMode.Linear));
        });

    private static PixelImage Recolour(PixelImage image, float[] matrix) =>
        SkiaInterop.Draw(image, (canvas, source) =>
        {
            using var paint = new SKPaint { ColorFilter = SKColorFilter.CreateColorMatrix(matrix) };
            canvas.DrawBitmap(source, 0, 0, paint);
        });

    /// <summary>SVG's <c>hueRotate</c> matrix followed by its <c>saturate</c> matrix (both keep grey pixels grey).</summary>
    private static float[] Hue(double degrees, float saturation)
    {
        float c = (float)Math.Cos(degrees * Math.PI / 180), s = (float)Math.Sin(degrees * Math.PI / 180);
        float[,] hue =
        {
            { 0.213f + c * 0.787f - s * 0.213f, 0.715f - c * 0.715f - s * 0.715f, 0.072f - c * 0.072f + s * 0.928f },
            { 0.213f - c * 0.213f + s * 0.143f, 0.715f + c * 0.285f + s * 0.140f, 0.072f - c * 0.072f - s * 0.283f },
            { 0.213f - c * 0.213f - s * 0.787f, 0.715f - c * 0.715f + s * 0.715f, 0.072f + c * 0.928f + s * 0.072f },
        };
        float t = saturation;
        float[,] saturate =
        {
            { 0.213f + 0.787f * t, 0.715f - 0.715f * t, 0.072f - 0.072f * t },
            { 0.213f - 0.213f * t, 0.715f + 0.285f * t, 0.072f - 0.072f * t },
            { 0.213f - 0.213f * t, 0.715f - 0.715f * t, 0.072f + 0.928f * t },
        };
        var matrix = new float[20];
        for (int row = 0; row < 3; row++)
            for (int column = 0; column < 3; column++)
                for (int k = 0; k < 3; k++) matrix[row * 5 + column] += saturate[row, k] * hue[k, column];
        matrix[18] = 1;
        return matrix;
    }

    private static float[] Brightness(float offset) =>
        [1, 0, 0, 0, offset, 0, 1, 0, 0, offset, 0, 0, 1, 0, offset, 0, 0, 0, 1, 0];

    private static float[] Contrast(float factor)
    {
        float offset = 0.5f * (1 - factor);
        return [factor, 0, 0, 0, offset, 0, factor, 0, 0, offset, 0, 0, factor, 0, offset, 0, 0, 0, 1, 0];
    }

    private static PixelImage Blur(PixelImage image, float sigma) =>
        SkiaInterop.Draw(image, (canvas, source) =>
        {
            using var paint = new SKPaint { ImageFilter = SKImageFilter.CreateBlur(sigma, sigma, SKShaderTileMode.Clamp) };
            canvas.DrawBitmap(source, 0, 0, paint);
        });

    private static PixelImage Noise(PixelImage image, Random random, double sigma)
    {
        PixelImage noisy = image.Clone();
        Span<byte> pixels = noisy.Pixels;
        for (int i = 0; i < pixels.Length; i++)
        {
            // Box–Muller: one normal deviate per channel value.
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            double normal = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            pixels[i] = (byte)Math.Clamp(Math.Round(pixels[i] + sigma * normal), 0, 255);
        }
        return noisy;
    }

    private static PixelImage Text(PixelImage image, Random random) =>
        SkiaInterop.Draw(image, (canvas, source) =>
        {
            canvas.DrawBitmap(source, 0, 0);
            int width = source.Width, height = source.Height;
            // A meme-style band: it hides a sixth of the photo even where no font is installed.
            float band = height * 0.16f;
            bool top = random.Next(2) == 0;
            using (var bandPaint = new SKPaint { Color = new SKColor(0, 0, 0, 200) })
                canvas.DrawRect(0, top ? 0 : height - band, width, band, bandPaint);
            using var font = new SKFont(SkiaInterop.OverlayTypeface, band * 0.7f);
            using var white = new SKPaint { Color = SKColors.White, IsAntialias = true };
            canvas.DrawText(Words[random.Next(Words.Length)] + " " + Words[random.Next(Words.Length)], width * 0.04f, (top ? 0 : height - band) + band * 0.75f, font, white);
            int count = 3 + random.Next(3);
            for (int i = 0; i < count; i++)
            {
                using var wordFont = new SKFont(SkiaInterop.OverlayTypeface, height * (0.08f + 0.06f * random.NextSingle()));
                using var fill = new SKPaint { Color = new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)), IsAntialias = true };
                using var outline = new SKPaint { Color = SKColors.Black, IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = height * 0.006f };
                string word = Words[random.Next(Words.Length)];
                float x = width * 0.7f * random.NextSingle(), y = height * (0.25f + 0.5f * random.NextSingle());
                canvas.DrawText(word, x, y, wordFont, fill);
                canvas.DrawText(word, x, y, wordFont, outline);
            }
        });

    private static PixelImage Overlay(PixelImage image, Random random)
    {
        double scale = 0.5 + 0.15 * random.NextDouble();
        PixelImage small = Scale(image, scale);
        int left = random.Next(image.Width - small.Width + 1), top = random.Next(image.Height - small.Height + 1);
        return SkiaInterop.Draw(image, (canvas, _) =>
        {
            // A background no reference contains: a colour gradient under random discs and bars.
            using (var gradient = new SKPaint
            {
                Shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(image.Width, image.Height),
                    [RandomColour(random), RandomColour(random)], SKShaderTileMode.Clamp),
            })
                canvas.DrawRect(0, 0, image.Width, image.Height, gradient);
            for (int i = 0; i < 12; i++)
            {
                using var paint = new SKPaint { Color = RandomColour(random), IsAntialias = true };
                float x = image.Width * random.NextSingle(), y = image.Height * random.NextSingle(), r = image.Height * (0.05f + 0.15f * random.NextSingle());
                if (i % 2 == 0) canvas.DrawCircle(x, y, r, paint);
                else canvas.DrawRect(x, y, r * 3, r * 0.6f, paint);
            }
            using SKBitmap pasted = SkiaInterop.ToBitmap(small);
            canvas.DrawBitmap(pasted, left, top);
        });
    }

    private static PixelImage Combined(PixelImage image, Random random)
    {
        PixelImage cropped = RandomCrop(image, random, 0.75, 0.9);
        PixelImage brighter = Recolour(cropped, Brightness(0.1f + 0.05f * random.NextSingle()));
        return Recolour(brighter, Hue(Signed(random, 20, 40), 1f));
    }

    private static SKColor RandomColour(Random random) => new((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
}
