using System.Diagnostics;
using DeepRetrieval.Imaging;
using DeepRetrieval.Imaging.Processing;
using DeepRetrieval.Samples.CopyDetection.Photos;
using Microsoft.Extensions.Logging;

namespace DeepRetrieval.Samples.CopyDetection.Copies;

/// <summary>
/// The benchmark's data: references (the originals and the distractors, every photo at most <see cref="WorkingSize"/> pixels
/// on its longer side) and queries (each original's edited copies, at most <see cref="CopySize"/> pixels, JPEG). The split is
/// a seeded shuffle of the photos sorted by key; a copy depends only on its original's file, the edit and the seed, and is
/// written to the cache once (atomically) and re-used by later runs.
/// </summary>
internal sealed class CopyDataset
{
    /// <summary>Longer side of the reference images and of the image the edits start from (ISC 2021's references are of this order).</summary>
    public const int WorkingSize = 1024;

    /// <summary>Longer side of a stored copy (ISC 2021's queries are of this order).</summary>
    public const int CopySize = 640;

    /// <summary>Changes whenever the edits change, so old cached copies are not re-used.</summary>
    private const string CacheVersion = "copies-v1";

    private CopyDataset(IReadOnlyList<Photo> originals, IReadOnlyList<Photo> distractors, IReadOnlyList<CopyItem> copies)
    {
        Originals = originals;
        Distractors = distractors;
        References = [.. originals.Concat(distractors).OrderBy(p => p.Key, StringComparer.Ordinal)];
        Copies = copies;
    }

    /// <summary>The photos that have copies among the queries.</summary>
    public IReadOnlyList<Photo> Originals { get; }

    /// <summary>The photos without copies.</summary>
    public IReadOnlyList<Photo> Distractors { get; }

    /// <summary>Originals and distractors, sorted by key: the database every method searches.</summary>
    public IReadOnlyList<Photo> References { get; }

    /// <summary>The queries: every original × every edit, in original then edit order.</summary>
    public IReadOnlyList<CopyItem> Copies { get; }

    /// <summary>Splits the photos and makes (or finds in the cache) the copies.</summary>
    public static CopyDataset Create(IReadOnlyList<Photo> photos, BenchmarkSettings settings, ILogger log, CancellationToken cancellationToken = default)
    {
        Photo[] shuffled = [.. photos.OrderBy(p => p.Key, StringComparer.Ordinal)];
        new Random(settings.Seed).Shuffle(shuffled);
        if (settings.MaxPhotos is int most && most < shuffled.Length) shuffled = shuffled[..most];
        if (shuffled.Length < settings.Originals)
            throw new UsageException($"{settings.Originals} originals were asked for but only {shuffled.Length} distinct photos are used " +
                                     $"({photos.Count} found); lower --originals, raise --max-photos or add --photos folders.");
        Photo[] originals = [.. shuffled.Take(settings.Originals).OrderBy(p => p.Key, StringComparer.Ordinal)];
        Photo[] distractors = [.. shuffled.Skip(settings.Originals).Take(settings.Distractors ?? int.MaxValue).OrderBy(p => p.Key, StringComparer.Ordinal)];

        CopyTransform[] transforms = [.. settings.Transforms.Select(CopyTransforms.Get)];
        var copies = new CopyItem[originals.Length * transforms.Length];
        int made = 0;
        var clock = Stopwatch.StartNew();
        Parallel.For(0, originals.Length, new ParallelOptions { MaxDegreeOfParallelism = settings.Threads, CancellationToken = cancellationToken }, o =>
        {
            Photo original = originals[o];
            string folder = Path.Combine(settings.CacheDirectory, CopyFolderName(original, settings.Seed));
            PixelImage? working = null;
            for (int t = 0; t < transforms.Length; t++)
            {
                CopyTransform transform = transforms[t];
                string path = Path.Combine(folder, transform.Name + ".jpg");
                copies[o * transforms.Length + t] = new CopyItem($"{original.Key}/{transform.Name}", path, original, transform);
                if (File.Exists(path)) continue;
                working ??= LoadWorkingImage(original.Path);
                var random = new Random(StableHash.Seed(settings.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture), original.Key, transform.Name));
                TransformedCopy copy = transform.Apply(working, random);
                PixelImage stored = copy.Image.Width > CopySize || copy.Image.Height > CopySize
                    ? copy.Image.ResizeToFit(CopySize, CopySize, ResizeFilter.Bilinear)
                    : copy.Image;
                WriteAtomically(path, SkiaInterop.EncodeJpeg(stored, copy.JpegQuality));
                Interlocked.Increment(ref made);
            }
        });
        if (made > 0)
            log.LogInformation("Made {Made} copies in {Seconds:F1} s (cache {Cache})", made, clock.Elapsed.TotalSeconds, settings.CacheDirectory);
        else
            log.LogInformation("All {Count} copies found in the cache {Cache}", copies.Length, settings.CacheDirectory);
        return new CopyDataset(originals, distractors, copies);
    }

    /// <summary>Decodes a photo at most <see cref="WorkingSize"/> pixels on its longer side, RGB (JPEGs through draft decoding first).</summary>
    public static PixelImage LoadWorkingImage(string path) =>
        ImageDecoder.Decode(path, new ImageDecodeOptions { DraftSize = new ImageSize(WorkingSize, WorkingSize) }, image =>
            image.Width > WorkingSize || image.Height > WorkingSize
                ? image.ResizeToFit(WorkingSize, WorkingSize, ResizeFilter.Bilinear)
                : image.Clone());

    /// <summary>One folder per (photo file, seed, edit version): a changed file or seed gets fresh copies.</summary>
    private static string CopyFolderName(Photo photo, int seed)
    {
        string readable = string.Concat(photo.Key.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_'));
        uint hash = StableHash.Of($"{CacheVersion}|{seed}|{WorkingSize}|{CopySize}|{photo.Path}|{photo.Length}");
        return $"{readable}-{hash:x8}";
    }

    private static void WriteAtomically(string path, byte[] bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temporary = $"{path}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp";
        File.WriteAllBytes(temporary, bytes);
        File.Move(temporary, path, overwrite: true);
    }
}
