using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.InteropServices;
using DeepRetrieval.Imaging;
using DeepRetrieval.Imaging.Processing;
using DeepRetrieval.Torch.Augmentation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Data;

/// <summary>
/// Images as files — a folder with one sub-folder per class, a list of files, a CSV of (path, label), or any list of
/// <see cref="ImageSample"/>s — streamed into batches: worker threads decode (with <c>DeepRetrieval.Imaging</c>), resize, crop,
/// augment and convert to floats while the consumer trains or extracts, at most <see cref="ImageFileSetOptions.PrefetchBatches"/>
/// batches ahead, so memory is bounded whatever the number of images. The id of an image is its position in
/// <see cref="Samples"/>; labels are known from the list without decoding (what the samplers need).
/// <para>
/// <see cref="ReadBatches"/> (extraction, validation) returns every image in id order, never augmented; consecutive images of
/// different sizes go into separate batches. <see cref="ReadTrainingBatches"/> (the trainer) reads batches of ids in any order
/// and applies <see cref="ImageFileSetOptions.Augmentations"/>, each sample with a generator seeded from (seed, epoch, its
/// position in the epoch), so the augmentation does not depend on the thread count or timing.
/// </para>
/// <para>
/// A file that cannot be decoded (missing, empty, truncated, corrupt, not an image, over the pixel limit) is left out of its
/// batch, reported to the read's <see cref="IProgress{T}"/>, listed in <see cref="SkippedImages"/> and logged once as a warning
/// naming it; it is not read again by this set. With <see cref="ImageFileSetOptions.CacheBytes"/> the preprocessed 8-bit pixels
/// are kept in memory up to that budget, so later epochs skip decoding.
/// </para>
/// </summary>
public sealed class ImageFileSet : ITrainingImageSource
{
    private readonly ImageSample[] _samples;
    private readonly long[]? _labels;
    private readonly ILogger _logger;
    private readonly ChannelNormalization _normalization;
    private readonly PixelImage?[]? _cache;
    private readonly ConcurrentDictionary<long, SkippedImage> _skipped = new();
    private long _cachedBytes;
    private int _cachedCount;

    /// <summary>Wraps a list of image files with their labels (nothing is read until a batch is).</summary>
    /// <param name="samples">The images: full or relative paths (resolved against the current folder) and labels, −1 for none.</param>
    /// <param name="classes">Name of each label, indexed by label; null or empty when labels are bare ids.</param>
    /// <param name="options">Preprocessing, augmentation, threads, prefetch and cache; null for the defaults.</param>
    /// <param name="logger">Receives a warning per unreadable file; null for none.</param>
    /// <exception cref="ArgumentException">The list is empty, a path is empty, a label is below −1 or has no class name, or the options are invalid.</exception>
    public ImageFileSet(IEnumerable<ImageSample> samples, IReadOnlyList<string>? classes = null, ImageFileSetOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(samples);
        Options = options ?? new ImageFileSetOptions();
        Options.Validate();
        _logger = logger ?? NullLogger.Instance;
        Classes = classes?.ToArray() ?? [];
        var list = new List<ImageSample>();
        foreach (ImageSample sample in samples)
        {
            if (sample is null || string.IsNullOrEmpty(sample.Path))
                throw new ArgumentException($"Image {list.Count} has no path.", nameof(samples));
            if (sample.Label < -1)
                throw new ArgumentException($"Image {list.Count} ('{sample.Path}') has label {sample.Label}; labels are ≥ 0, or −1 for none.", nameof(samples));
            if (Classes.Count > 0 && sample.Label >= Classes.Count)
                throw new ArgumentException($"Image {list.Count} ('{sample.Path}') has label {sample.Label} but there are only {Classes.Count} class names.", nameof(classes));
            list.Add(sample with { Path = Path.GetFullPath(sample.Path) });
        }
        if (list.Count == 0)
            throw new ArgumentException("The image list is empty.", nameof(samples));
        _samples = [.. list];
        if (_samples.All(s => s.Label >= 0))
            _labels = _samples.Select(s => (long)s.Label).ToArray();
        ClassToIndex = Classes.Select((name, index) => (name, index)).DistinctBy(p => p.name, StringComparer.Ordinal)
            .ToDictionary(p => p.name, p => p.index, StringComparer.Ordinal);
        _normalization = Options.Preprocessing.Normalization();
        if (Options.CacheBytes > 0)
            _cache = new PixelImage?[_samples.Length];
    }

    /// <summary>
    /// Scans a folder laid out one sub-folder per class, <c>root/&lt;class&gt;/**/&lt;image&gt;</c>, as torchvision's
    /// <c>ImageFolder</c>: classes are the sub-folder names sorted ordinally (label = position), images are the files with an
    /// extension in <see cref="ImageFileSetOptions.Extensions"/>, sorted by folder then name, ordinal.
    /// </summary>
    /// <param name="root">The folder holding one sub-folder per class.</param>
    /// <param name="options">Preprocessing, augmentation, extensions, threads, prefetch and cache; null for the defaults.</param>
    /// <param name="logger">Receives a warning per unreadable file; null for none.</param>
    /// <exception cref="DirectoryNotFoundException">The root folder does not exist.</exception>
    /// <exception cref="ArgumentException">The options are invalid, or the root holds no class folder or no image.</exception>
    public static ImageFileSet FromFolder(string root, ImageFileSetOptions? options = null, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        options ??= new ImageFileSetOptions();
        options.Validate();
        string full = Path.GetFullPath(root);
        if (!Directory.Exists(full))
            throw new DirectoryNotFoundException($"Image folder '{full}' does not exist.");
        string[] classes = Directory.GetDirectories(full).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        if (classes.Length == 0)
            throw new ArgumentException($"Image folder '{full}' has no class sub-folders; expected root/<class>/<image>.", nameof(root));

        var extensions = new HashSet<string>(options.Extensions, StringComparer.OrdinalIgnoreCase);
        var enumeration = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            MaxRecursionDepth = options.MaxDepth,
            IgnoreInaccessible = true,
            AttributesToSkip = 0,
            ReturnSpecialDirectories = false,
        };
        var samples = new List<ImageSample>();
        for (int label = 0; label < classes.Length; label++)
        {
            // Folder then name, ordinal: the order of torchvision's sorted(os.walk(...)) with sorted(file names).
            samples.AddRange(Directory.EnumerateFiles(Path.Combine(full, classes[label]), "*", enumeration)
                .Where(f => extensions.Contains(Path.GetExtension(f)))
                .OrderBy(f => Path.GetDirectoryName(f), StringComparer.Ordinal)
                .ThenBy(Path.GetFileName, StringComparer.Ordinal)
                .Select(f => new ImageSample(f, label)));
        }
        if (samples.Count == 0)
            throw new ArgumentException($"Image folder '{full}' holds no file with an image extension ({string.Join(", ", options.Extensions)}).", nameof(root));
        return new ImageFileSet(samples, classes, options, logger);
    }

    /// <summary>Wraps a list of image files without labels (for extraction; training needs labels).</summary>
    /// <param name="paths">The files, full or relative to the current folder; missing ones are skipped when read.</param>
    /// <param name="options">Preprocessing, threads, prefetch and cache; null for the defaults.</param>
    /// <param name="logger">Receives a warning per unreadable file; null for none.</param>
    /// <exception cref="ArgumentException">The list is empty or holds an empty path.</exception>
    public static ImageFileSet FromFiles(IEnumerable<string> paths, ImageFileSetOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(paths);
        return new ImageFileSet(paths.Select(p => new ImageSample(p, -1)), null, options, logger);
    }

    /// <summary>
    /// Wraps a list of (path, class name) pairs. When every name is a non-negative integer the names are the labels themselves
    /// and <see cref="Classes"/> is empty; otherwise the distinct names sorted ordinally are the classes and a label is its
    /// name's position.
    /// </summary>
    /// <param name="images">The files (full or relative to the current folder) and their class names.</param>
    /// <param name="options">Preprocessing, augmentation, threads, prefetch and cache; null for the defaults.</param>
    /// <param name="logger">Receives a warning per unreadable file; null for none.</param>
    /// <exception cref="ArgumentException">The list is empty, or a path or name is empty.</exception>
    public static ImageFileSet FromList(IEnumerable<(string Path, string Label)> images, ImageFileSetOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        var rows = images.ToList();
        if (rows.Any(r => string.IsNullOrEmpty(r.Label)))
            throw new ArgumentException("Every image needs a non-empty class name.", nameof(images));
        var (labels, classes) = LabelsFromNames(rows.Select(r => r.Label).ToList());
        return new ImageFileSet(rows.Select((r, i) => new ImageSample(r.Path, labels[i])), classes, options, logger);
    }

    /// <summary>
    /// Reads a CSV file listing images, one per row, with a path column and optionally a label column (see
    /// <see cref="ImageCsvFormat"/>; relative paths are relative to the CSV's folder). Labels are read as in
    /// <see cref="FromList"/>: integers as they are, otherwise class names sorted ordinally.
    /// </summary>
    /// <param name="csvPath">The CSV file.</param>
    /// <param name="format">Delimiter, header and column names; null for a header naming "path" and "label" columns.</param>
    /// <param name="options">Preprocessing, augmentation, threads, prefetch and cache; null for the defaults.</param>
    /// <param name="logger">Receives a warning per unreadable image; null for none.</param>
    /// <exception cref="FileNotFoundException">The CSV file does not exist.</exception>
    /// <exception cref="InvalidDataException">The CSV lacks a named column, a row lacks a field, a field is empty or badly quoted, or it lists no image (the message names the file and line).</exception>
    public static ImageFileSet FromCsv(string csvPath, ImageCsvFormat? format = null, ImageFileSetOptions? options = null, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(csvPath);
        format ??= new ImageCsvFormat();
        if (format.Delimiter is '"' or '\r' or '\n')
            throw new ArgumentException($"The delimiter cannot be {(int)format.Delimiter:x2}: it is a quote or a line break.", nameof(format));
        ArgumentException.ThrowIfNullOrEmpty(format.PathColumn, nameof(format));
        if (!File.Exists(csvPath))
            throw new FileNotFoundException($"Image list '{csvPath}' does not exist.", csvPath);
        List<(string Path, string? Label)> rows = ImageListCsv.Read(csvPath, format);
        if (rows.Count == 0)
            throw new InvalidDataException($"{csvPath} lists no image.");
        if (format.LabelColumn is null)
            return new ImageFileSet(rows.Select(r => new ImageSample(r.Path, -1)), null, options, logger);
        var (labels, classes) = LabelsFromNames(rows.Select(r => r.Label!).ToList());
        return new ImageFileSet(rows.Select((r, i) => new ImageSample(r.Path, labels[i])), classes, options, logger);
    }

    /// <summary>The settings in use.</summary>
    public ImageFileSetOptions Options { get; }

    /// <summary>Class names in label order (sub-folder names for a folder); empty when labels are bare ids.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>The label of each class name.</summary>
    public IReadOnlyDictionary<string, int> ClassToIndex { get; }

    /// <summary>Every image, in id order, with its full path.</summary>
    public IReadOnlyList<ImageSample> Samples => _samples;

    /// <inheritdoc />
    public long Count => _samples.Length;

    /// <summary>The label of every image in id order (what the samplers take), or null when some image has none (label −1).</summary>
    public IReadOnlyList<long>? Labels => _labels;

    /// <summary>The images found unreadable so far (by any read), in id order, each listed once.</summary>
    public IReadOnlyList<SkippedImage> SkippedImages => [.. _skipped.Values.OrderBy(s => s.Id)];

    /// <summary>The number of distinct images found unreadable so far.</summary>
    public int SkippedCount => _skipped.Count;

    /// <summary>Images whose preprocessed pixels are held in the cache.</summary>
    public int CachedCount => Volatile.Read(ref _cachedCount);

    /// <summary>Bytes of pixels held in the cache (at most <see cref="ImageFileSetOptions.CacheBytes"/>).</summary>
    public long CachedBytes => Interlocked.Read(ref _cachedBytes);

    /// <summary>The class label of an image (−1 for none).</summary>
    /// <param name="id">Image id, 0 ≤ id &lt; <see cref="Count"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The id is out of range.</exception>
    public int GetLabel(long id) => _samples[CheckId(id)].Label;

    /// <summary>Decodes and preprocesses one image (never augmented) into a new C × H × W tensor.</summary>
    /// <param name="id">Image id, 0 ≤ id &lt; <see cref="Count"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The id is out of range.</exception>
    /// <exception cref="InvalidDataException">The image cannot be decoded (the message names the file).</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public Tensor LoadImage(long id)
    {
        int index = CheckId(id);
        PixelImage image = _cache?[index] ?? Options.Preprocessing.DecodeAndResize(_samples[index].Path);
        return ImageTensor.ToTensor(image, _normalization);
    }

    /// <inheritdoc />
    public IEnumerable<ImageBatch> ReadBatches(int batchSize, IProgress<SkippedImage>? skipped = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        return Read(Chunks(batchSize), augment: false, seed: 0, epoch: 0, skipped, training: false, cancellationToken);
    }

    /// <inheritdoc />
    public IEnumerable<ImageBatch> ReadTrainingBatches(IReadOnlyList<long[]> batches, long seed, int epoch, IProgress<SkippedImage>? skipped = null,
        CancellationToken cancellationToken = default)
    {
        BatchIndices.Check(batches, _samples.Length, nameof(batches));
        return Read(batches, augment: Options.Augmentations.Count > 0, seed, epoch, skipped, training: true, cancellationToken);
    }

    /// <summary>
    /// Decodes and preprocesses every image once on the worker threads, in id order: fills the cache (when
    /// <see cref="ImageFileSetOptions.CacheBytes"/> allows) and finds the unreadable files before a long run starts (they are
    /// logged, listed in <see cref="SkippedImages"/> and left out of every later read).
    /// </summary>
    /// <param name="progress">Told after every 64 images and at the end, on the calling thread; null for none.</param>
    /// <param name="cancellationToken">Stops the work.</param>
    /// <returns>The number of readable images.</returns>
    /// <exception cref="OperationCanceledException">The work was cancelled.</exception>
    public int Preload(IProgress<ImageLoadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        const int chunk = 64;
        long[][] chunks = Chunks(chunk);
        int loaded = 0, skipped = 0;
        using var prefetcher = new BatchPrefetcher<PreparedImage>(chunks, Options.DecodeThreads, Options.PrefetchBatches,
            (index, _) => Load(index), static _ => { }, cancellationToken);
        for (int b = 0; b < chunks.Length; b++)
        {
            foreach (PreparedImage item in prefetcher.Take(b))
            {
                if (item.Failure is { } reason)
                {
                    RecordSkip(new SkippedImage(item.Index, _samples[item.Index].Path, reason), null);
                    skipped++;
                }
                else
                {
                    loaded++;
                }
            }
            progress?.Report(new ImageLoadProgress(loaded, skipped, _samples.Length));
        }
        return loaded;
    }

    /// <summary>Empties the cache of preprocessed pixels.</summary>
    public void ClearCache()
    {
        if (_cache is null) return;
        for (int i = 0; i < _cache.Length; i++)
        {
            if (Interlocked.Exchange(ref _cache[i], null) is { } image)
            {
                Interlocked.Add(ref _cachedBytes, -image.Pixels.Length);
                Interlocked.Decrement(ref _cachedCount);
            }
        }
    }

    // Plain reads cut a batch where the image size changes; training batches must share one size.
    private IEnumerable<ImageBatch> Read(IReadOnlyList<long[]> batches, bool augment, long seed, int epoch, IProgress<SkippedImage>? skipped,
        bool training, CancellationToken cancellationToken)
    {
        // Buffers cycle between the workers and the consumer: at most the prefetch window's worth exist, and none is allocated in
        // steady state (a shared ArrayPool keeps too few of these large arrays and would churn the large-object heap).
        var buffers = new ConcurrentBag<float[]>();
        using var prefetcher = new BatchPrefetcher<PreparedImage>(batches, Options.DecodeThreads, Options.PrefetchBatches,
            (index, position) => Prepare(index, position, augment, seed, epoch, buffers), static item => item.Release(), cancellationToken);
        for (int b = 0; b < batches.Count; b++)
        {
            PreparedImage[] items = prefetcher.Take(b);
            try
            {
                var group = new List<int>(items.Length);
                for (int slot = 0; slot < items.Length; slot++)
                {
                    PreparedImage item = items[slot];
                    if (item.Failure is { } reason)
                    {
                        RecordSkip(new SkippedImage(item.Index, _samples[item.Index].Path, reason), skipped);
                        continue;
                    }
                    if (group.Count > 0 && !item.SameShape(items[group[0]]))
                    {
                        if (training)
                            throw new InvalidOperationException(
                                $"Training batches need images of one size, but '{_samples[items[group[0]].Index].Path}' became {items[group[0]].Shape} and "
                                + $"'{_samples[item.Index].Path}' {item.Shape}. Give the preprocessing a center crop or a square resize, or end the augmentations with a fixed-size crop.");
                        yield return MakeBatch(items, group);
                        group.Clear();
                    }
                    group.Add(slot);
                }
                if (group.Count > 0)
                    yield return MakeBatch(items, group);
            }
            finally
            {
                foreach (PreparedImage item in items) item.Release();
            }
        }
    }

    // Runs on a worker thread. A file that cannot be decoded is a failure to report; an augmentation that throws is a bug and
    // stops the read.
    private PreparedImage Prepare(long index, long position, bool augment, long seed, int epoch, ConcurrentBag<float[]> buffers)
    {
        if (!TryLoad(index, out PixelImage? image, out string? failure))
            return PreparedImage.Failed(index, failure);
        if (augment)
        {
            var random = new SampleRandom(seed, epoch, position);
            foreach (IImageAugmentation augmentation in Options.Augmentations)
                image = augmentation.Apply(image, random) ?? throw new InvalidOperationException($"{augmentation.GetType().Name} returned no image.");
        }
        int planes = _normalization.Planes, length = planes * image.Width * image.Height;
        if (!buffers.TryTake(out float[]? pixels) || pixels.Length < length)
            pixels = new float[length];
        image.ToChw(pixels, _normalization);
        return new PreparedImage(index, pixels, planes, image.Height, image.Width, buffers);
    }

    private PreparedImage Load(long index) =>
        TryLoad(index, out _, out string? failure) ? PreparedImage.Loaded(index) : PreparedImage.Failed(index, failure);

    // The preprocessed 8-bit image, from the cache or decoded (and then cached when there is room).
    private bool TryLoad(long index, [NotNullWhen(true)] out PixelImage? image, [NotNullWhen(false)] out string? failure)
    {
        failure = null;
        if (_skipped.TryGetValue(index, out SkippedImage? known))
        {
            image = null;
            failure = known.Reason;
            return false;
        }
        image = _cache is null ? null : Volatile.Read(ref _cache[index]);
        if (image is not null) return true;
        try
        {
            image = Options.Preprocessing.DecodeAndResize(_samples[index].Path);
        }
        catch (Exception error) when (error is not (OperationCanceledException or OutOfMemoryException))
        {
            // The image package reports bad files as InvalidDataException and IOException; a native decoder fed hostile
            // bytes may still fail otherwise, and one bad file must not end a run over thousands.
            failure = error is InvalidDataException or IOException or UnauthorizedAccessException
                ? error.Message
                : $"Cannot decode image '{_samples[index].Path}': {error.GetType().Name}: {error.Message}";
            return false;
        }
        AddToCache(index, image);
        return true;
    }

    // Consecutive ids in chunks of the given size.
    private long[][] Chunks(int size)
    {
        var chunks = new long[(_samples.Length + size - 1) / size][];
        for (int c = 0; c < chunks.Length; c++)
        {
            int start = c * size;
            chunks[c] = new long[Math.Min(size, _samples.Length - start)];
            for (int i = 0; i < chunks[c].Length; i++) chunks[c][i] = start + i;
        }
        return chunks;
    }

    private void AddToCache(long index, PixelImage image)
    {
        if (_cache is null) return;
        long size = image.Pixels.Length;
        if (Interlocked.Add(ref _cachedBytes, size) <= Options.CacheBytes
            && Interlocked.CompareExchange(ref _cache[index], image, null) is null)
        {
            Interlocked.Increment(ref _cachedCount);
            return;
        }
        // Over budget, or another thread cached the same image first.
        Interlocked.Add(ref _cachedBytes, -size);
    }

    private ImageBatch MakeBatch(PreparedImage[] items, List<int> group)
    {
        PreparedImage first = items[group[0]];
        int size = first.Channels * first.Height * first.Width;
        Tensor images = empty([group.Count, first.Channels, first.Height, first.Width], ScalarType.Float32);
        Span<float> destination = MemoryMarshal.Cast<byte, float>(images.bytes);
        var ids = new long[group.Count];
        long[]? labels = _labels is null ? null : new long[group.Count];
        for (int i = 0; i < group.Count; i++)
        {
            PreparedImage item = items[group[i]];
            item.Pixels.AsSpan(0, size).CopyTo(destination.Slice(i * size, size));
            ids[i] = item.Index;
            if (labels is not null) labels[i] = _labels![item.Index];
        }
        return new ImageBatch(images, ids, labels);
    }

    private void RecordSkip(SkippedImage image, IProgress<SkippedImage>? skipped)
    {
        if (_skipped.TryAdd(image.Id, image))
            _logger.LogWarning("Skipping image {Id} '{Path}': {Reason}", image.Id, image.Path, image.Reason);
        skipped?.Report(image);
    }

    private int CheckId(long id)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(id, Count);
        return (int)id;
    }

    // Integers stay the labels; otherwise the distinct names, sorted ordinally, are the classes.
    private static (int[] Labels, string[]? Classes) LabelsFromNames(List<string> names)
    {
        var numbers = new int[names.Count];
        bool numeric = true;
        for (int i = 0; i < names.Count && numeric; i++)
            numeric = int.TryParse(names[i], NumberStyles.None, CultureInfo.InvariantCulture, out numbers[i]);
        if (numeric) return (numbers, null);
        string[] classes = names.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var index = classes.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
        return (names.Select(n => index[n]).ToArray(), classes);
    }

    // One preprocessed image as floats in a recycled buffer (or the reason it could not be read), from a worker to the consumer.
    private sealed class PreparedImage
    {
        private readonly ConcurrentBag<float[]>? _buffers;
        private float[]? _pixels;

        public PreparedImage(long index, float[] pixels, int channels, int height, int width, ConcurrentBag<float[]> buffers)
        {
            Index = index;
            _pixels = pixels;
            _buffers = buffers;
            Channels = channels;
            Height = height;
            Width = width;
        }

        private PreparedImage(long index, string? failure)
        {
            Index = index;
            Failure = failure;
        }

        public long Index { get; }

        public float[] Pixels => _pixels ?? throw new InvalidOperationException("The image's buffer was already returned.");

        public int Channels { get; }

        public int Height { get; }

        public int Width { get; }

        public string? Failure { get; }

        public string Shape => $"{Channels} × {Height} × {Width}";

        public static PreparedImage Failed(long index, string reason) => new(index, reason);

        // Decoded (and cached) but not converted: what Preload needs to know.
        public static PreparedImage Loaded(long index) => new(index, failure: null);

        public bool SameShape(PreparedImage other) => Channels == other.Channels && Height == other.Height && Width == other.Width;

        public void Release()
        {
            if (Interlocked.Exchange(ref _pixels, null) is { } pixels)
                _buffers!.Add(pixels);
        }
    }
}
