using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Data;

/// <summary>
/// A folder of images laid out one sub-folder per class, <c>root/&lt;class&gt;/**/&lt;image&gt;</c>, like torchvision's
/// <c>ImageFolder</c>: classes are the sub-folder names sorted ordinally (label = position), images are the files with an
/// image extension, sorted by folder then name; the id of an image is its position in <see cref="Samples"/>.
/// <para>
/// <see cref="ReadBatches"/> decodes on a few threads (<see cref="ImageFolderOptions.DecodeThreads"/>) one batch ahead of the
/// consumer and returns batches in file order. A file that cannot be decoded (empty, truncated, corrupt, unreadable) is logged
/// as a warning naming it, reported, recorded in <see cref="SkippedImages"/> and left out; it never stops the run. Consecutive
/// images of different sizes (possible without a resize and crop) go into separate batches.
/// </para>
/// </summary>
public sealed class ImageFolderDataset : IImageBatchSource
{
    private readonly ILogger _logger;
    private readonly SortedDictionary<long, SkippedImage> _skipped = [];
    private readonly Lock _skippedLock = new();

    /// <summary>Scans the folder (the images are decoded only when read).</summary>
    /// <param name="root">The folder holding one sub-folder per class.</param>
    /// <param name="options">Preprocessing, extensions and decode threads; null for the defaults.</param>
    /// <param name="logger">Receives a warning per skipped image; null for none.</param>
    /// <exception cref="DirectoryNotFoundException">The root folder does not exist.</exception>
    /// <exception cref="ArgumentException">The options are invalid, or the root holds no class folder or no image.</exception>
    public ImageFolderDataset(string root, ImageFolderOptions? options = null, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        Options = options ?? new ImageFolderOptions();
        Options.Preprocessing.Validate();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Options.DecodeThreads, nameof(options));
        if (Options.Extensions.Count == 0 || Options.Extensions.Any(e => string.IsNullOrEmpty(e) || e[0] != '.'))
            throw new ArgumentException($"Extensions must be non-empty and each start with a dot; got [{string.Join(", ", Options.Extensions)}].", nameof(options));
        _logger = logger ?? NullLogger.Instance;
        Root = Path.GetFullPath(root);
        if (!Directory.Exists(Root))
            throw new DirectoryNotFoundException($"Image folder '{Root}' does not exist.");

        var extensions = new HashSet<string>(Options.Extensions, StringComparer.OrdinalIgnoreCase);
        string[] classes = Directory.GetDirectories(Root).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        if (classes.Length == 0)
            throw new ArgumentException($"Image folder '{Root}' has no class sub-folders; expected root/<class>/<image>.", nameof(root));

        var samples = new List<ImageSample>();
        for (int label = 0; label < classes.Length; label++)
        {
            string classFolder = Path.Combine(Root, classes[label]);
            // Folder then name, ordinal: the order of torchvision's sorted(os.walk(...)) with sorted(file names).
            IEnumerable<string> files = Directory.EnumerateFiles(classFolder, "*", SearchOption.AllDirectories)
                .Where(f => extensions.Contains(Path.GetExtension(f)))
                .OrderBy(f => Path.GetDirectoryName(f), StringComparer.Ordinal)
                .ThenBy(Path.GetFileName, StringComparer.Ordinal);
            samples.AddRange(files.Select(f => new ImageSample(f, label)));
        }
        if (samples.Count == 0)
            throw new ArgumentException($"Image folder '{Root}' holds no file with an image extension ({string.Join(", ", Options.Extensions)}).", nameof(root));

        Classes = classes;
        ClassToIndex = classes.Select((name, index) => (name, index)).ToDictionary(p => p.name, p => p.index, StringComparer.Ordinal);
        Samples = samples;
    }

    /// <summary>The full path of the root folder.</summary>
    public string Root { get; }

    /// <summary>The settings in use.</summary>
    public ImageFolderOptions Options { get; }

    /// <summary>Class names (sub-folder names) in label order.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>The label of each class name.</summary>
    public IReadOnlyDictionary<string, int> ClassToIndex { get; }

    /// <summary>Every image file found, in id order.</summary>
    public IReadOnlyList<ImageSample> Samples { get; }

    /// <inheritdoc />
    public long Count => Samples.Count;

    /// <summary>The images found unreadable so far (by any read), in id order, each listed once.</summary>
    public IReadOnlyList<SkippedImage> SkippedImages
    {
        get
        {
            lock (_skippedLock)
                return _skipped.Values.ToArray();
        }
    }

    /// <summary>The number of distinct images found unreadable so far.</summary>
    public int SkippedCount
    {
        get
        {
            lock (_skippedLock)
                return _skipped.Count;
        }
    }

    /// <summary>The class label of an image.</summary>
    /// <param name="id">Image id, 0 ≤ id &lt; <see cref="Count"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The id is out of range.</exception>
    public int GetLabel(long id) => Samples[CheckId(id)].Label;

    /// <summary>Decodes one image into a new C × H × W tensor.</summary>
    /// <param name="id">Image id, 0 ≤ id &lt; <see cref="Count"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The id is out of range.</exception>
    /// <exception cref="InvalidDataException">The image cannot be decoded (the message names the file).</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public Tensor LoadImage(long id) => ImageDecoder.Load(Samples[CheckId(id)].Path, Options.Preprocessing);

    /// <inheritdoc />
    public IEnumerable<ImageBatch> ReadBatches(int batchSize, IProgress<SkippedImage>? skipped = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        return ReadBatchesCore(batchSize, skipped, cancellationToken);
    }

    private IEnumerable<ImageBatch> ReadBatchesCore(int batchSize, IProgress<SkippedImage>? skipped, CancellationToken cancellationToken)
    {
        int chunkCount = (Samples.Count + batchSize - 1) / batchSize;
        Task<DecodeOutcome[]>? pending = DecodeChunkAsync(0, batchSize, cancellationToken);
        try
        {
            for (int chunk = 0; chunk < chunkCount; chunk++)
            {
                DecodeOutcome[] outcomes = pending!.GetAwaiter().GetResult();
                // Decode the next chunk while the consumer works on this one: one chunk ahead bounds the memory.
                pending = chunk + 1 < chunkCount ? DecodeChunkAsync((chunk + 1) * batchSize, batchSize, cancellationToken) : null;
                long firstId = (long)chunk * batchSize;

                var group = new List<int>(outcomes.Length);
                for (int i = 0; i < outcomes.Length; i++)
                {
                    if (outcomes[i].Failure is string reason)
                    {
                        RecordSkip(new SkippedImage(firstId + i, Samples[(int)firstId + i].Path, reason), skipped);
                        continue;
                    }
                    if (group.Count > 0 && !SameShape(outcomes[group[0]].Image, outcomes[i].Image))
                    {
                        yield return MakeBatch(outcomes, group, firstId);
                        group.Clear();
                    }
                    group.Add(i);
                }
                if (group.Count > 0)
                    yield return MakeBatch(outcomes, group, firstId);
            }
        }
        finally
        {
            // An abandoned enumeration must not leave decoding threads running on the folder.
            if (pending is not null)
            {
                try
                {
                    pending.Wait(CancellationToken.None);
                }
                catch (AggregateException)
                {
                }
            }
        }
    }

    private Task<DecodeOutcome[]>? DecodeChunkAsync(int start, int batchSize, CancellationToken cancellationToken)
    {
        if (start >= Samples.Count)
            return null;
        int count = Math.Min(batchSize, Samples.Count - start);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Options.DecodeThreads, CancellationToken = cancellationToken };
        return Task.Run(() =>
        {
            var outcomes = new DecodeOutcome[count];
            Parallel.For(0, count, parallel, i => outcomes[i] = TryDecode(Samples[start + i].Path));
            return outcomes;
        }, cancellationToken);
    }

    private DecodeOutcome TryDecode(string path)
    {
        try
        {
            return new DecodeOutcome(ImageDecoder.Decode(path, Options.Preprocessing), null);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            return new DecodeOutcome(default, ex.Message);
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or OutOfMemoryException))
        {
            // A native decoder fed hostile bytes can fail in ways no list of exception types foresees; one bad file must
            // still not end a run over thousands.
            return new DecodeOutcome(default, $"Cannot decode image '{path}': {ex.GetType().Name}: {ex.Message}");
        }
    }

    private void RecordSkip(SkippedImage image, IProgress<SkippedImage>? skipped)
    {
        _logger.LogWarning("Skipping image {Id} '{Path}': {Reason}", image.Id, image.Path, image.Reason);
        lock (_skippedLock)
            _skipped[image.Id] = image;
        skipped?.Report(image);
    }

    private ImageBatch MakeBatch(DecodeOutcome[] outcomes, List<int> group, long firstId)
    {
        DecodedImage first = outcomes[group[0]].Image;
        int size = first.Pixels.Length;
        var pixels = new float[(long)size * group.Count];
        var ids = new long[group.Count];
        var labels = new long[group.Count];
        for (int i = 0; i < group.Count; i++)
        {
            outcomes[group[i]].Image.Pixels.CopyTo(pixels, (long)i * size);
            ids[i] = firstId + group[i];
            labels[i] = Samples[(int)ids[i]].Label;
        }
        Tensor images = tensor(pixels, [group.Count, first.Channels, first.Height, first.Width], ScalarType.Float32);
        return new ImageBatch(images, ids, labels);
    }

    private static bool SameShape(DecodedImage a, DecodedImage b) =>
        a.Channels == b.Channels && a.Height == b.Height && a.Width == b.Width;

    private int CheckId(long id)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(id, Count);
        return (int)id;
    }

    private readonly record struct DecodeOutcome(DecodedImage Image, string? Failure);
}
