using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DeepRetrieval.Imaging.IO;

/// <summary>
/// Reads every image of a folder (recursively, filtered by extension) or of a file list, decoding on worker threads
/// with a bounded queue, and yields the images in a deterministic order: the files sorted by their '/'-separated
/// relative path, ordinal. Files that cannot be decoded (empty, truncated, corrupt, not an image, over the pixel limit,
/// unreadable) are skipped, logged as warnings and listed in <see cref="Skipped"/>; the run goes on.
/// An instance runs one enumeration at a time.
/// </summary>
public sealed class ImageFolderReader
{
    private readonly ImageFolderOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentQueue<SkippedImage> _skipped = new();

    /// <summary>Creates a reader.</summary>
    /// <param name="options">Extensions, recursion, threads, queue size, decoding and transform; null for the defaults.</param>
    /// <param name="logger">Receives a warning per skipped file; null logs nothing.</param>
    /// <exception cref="ArgumentException">The options are inconsistent.</exception>
    public ImageFolderReader(ImageFolderOptions? options = null, ILogger? logger = null)
    {
        _options = options ?? new ImageFolderOptions();
        _options.Validate();
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Files skipped by the current or last enumeration, in list order once it has finished.</summary>
    public IReadOnlyList<SkippedImage> Skipped => [.. _skipped.OrderBy(s => s.Index)];

    /// <summary>The image files of a folder in the order the reader yields them.</summary>
    /// <param name="folder">The folder.</param>
    /// <param name="options">Extensions and recursion; null for the defaults.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public static IReadOnlyList<string> ListFiles(string folder, ImageFolderOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        options ??= new ImageFolderOptions();
        options.Validate();
        string root = Path.GetFullPath(folder);
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException($"Image folder '{folder}' does not exist.");
        var extensions = new HashSet<string>(options.Extensions, StringComparer.OrdinalIgnoreCase);
        var enumeration = new EnumerationOptions
        {
            RecurseSubdirectories = options.Recursive,
            MaxRecursionDepth = options.MaxDepth,
            IgnoreInaccessible = true,
            AttributesToSkip = FileAttributes.System,
            ReturnSpecialDirectories = false,
        };
        return [.. Directory.EnumerateFiles(root, "*", enumeration)
            .Where(path => extensions.Contains(Path.GetExtension(path)))
            .Select(path => (Path: path, Key: RelativeKey(root, path)))
            .OrderBy(file => file.Key, StringComparer.Ordinal)
            .Select(file => file.Path)];
    }

    /// <summary>Decodes every image of a folder, yielding them in <see cref="ListFiles"/> order.</summary>
    /// <param name="folder">The folder.</param>
    /// <param name="progress">Receives a report after each file; null for none.</param>
    /// <param name="cancellationToken">Stops the workers and the enumeration.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public IAsyncEnumerable<LoadedImage> ReadFolderAsync(string folder, IProgress<ImageReadProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        IReadOnlyList<string> files = ListFiles(folder, _options);
        string root = Path.GetFullPath(folder);
        return ReadCoreAsync(files, path => RelativeKey(root, path), progress, cancellationToken);
    }

    /// <summary>Decodes the given files, yielding them in the given order.</summary>
    /// <param name="files">Image files (need not exist: missing ones are skipped).</param>
    /// <param name="progress">Receives a report after each file; null for none.</param>
    /// <param name="cancellationToken">Stops the workers and the enumeration.</param>
    public IAsyncEnumerable<LoadedImage> ReadFilesAsync(IReadOnlyList<string> files, IProgress<ImageReadProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        return ReadCoreAsync([.. files.Select(Path.GetFullPath)], Path.GetFileName, progress, cancellationToken);
    }

    /// <summary>Decodes every image of a folder into memory: for small folders (the images are all held at once).</summary>
    /// <param name="folder">The folder.</param>
    /// <param name="progress">Receives a report after each file; null for none.</param>
    /// <param name="cancellationToken">Stops the work.</param>
    /// <returns>The decoded images in order; <see cref="Skipped"/> lists the rest.</returns>
    public IReadOnlyList<LoadedImage> ReadFolder(string folder, IProgress<ImageReadProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var images = new List<LoadedImage>();
        var enumerator = ReadFolderAsync(folder, progress, cancellationToken).GetAsyncEnumerator(cancellationToken);
        try
        {
            while (enumerator.MoveNextAsync().AsTask().GetAwaiter().GetResult())
                images.Add(enumerator.Current);
        }
        finally
        {
            enumerator.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return images;
    }

    private async IAsyncEnumerable<LoadedImage> ReadCoreAsync(IReadOnlyList<string> files, Func<string, string> relative,
        IProgress<ImageReadProgress>? progress, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        _skipped.Clear();
        int count = files.Count;
        if (count == 0)
            yield break;

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        CancellationToken token = stop.Token;
        int capacity = _options.EffectiveQueueCapacity;
        using var slots = new SemaphoreSlim(capacity, capacity);
        var pending = new ConcurrentDictionary<int, TaskCompletionSource<Outcome>>();
        TaskCompletionSource<Outcome> Slot(int index) =>
            pending.GetOrAdd(index, static _ => new TaskCompletionSource<Outcome>(TaskCreationOptions.RunContinuationsAsynchronously));

        int next = -1;
        var workers = new Task[Math.Min(_options.DecodeThreads, count)];
        for (int w = 0; w < workers.Length; w++)
        {
            workers[w] = Task.Run(async () =>
            {
                while (true)
                {
                    await slots.WaitAsync(token).ConfigureAwait(false);
                    // Indices are taken in increasing order, so the consumer's next index is always being worked on.
                    int index = Interlocked.Increment(ref next);
                    if (index >= count)
                        return;
                    TaskCompletionSource<Outcome> slot = Slot(index);
                    try
                    {
                        slot.TrySetResult(Load(files[index]));
                    }
                    catch (Exception error)
                    {
                        // Not a bad file but a failure of the run (out of memory, a bug): the consumer rethrows it.
                        slot.TrySetException(error);
                        return;
                    }
                }
            }, token);
        }

        int skipped = 0;
        try
        {
            for (int index = 0; index < count; index++)
            {
                Outcome outcome = await Slot(index).Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                pending.TryRemove(index, out _);

                string path = files[index];
                if (outcome.Image is { } image)
                {
                    progress?.Report(new ImageReadProgress(index + 1, count, skipped, path));
                    yield return new LoadedImage(index, path, relative(path), image);
                    // The slot is freed only once the consumer asks for the next image, so the image it holds counts
                    // against the capacity too.
                    slots.Release();
                }
                else
                {
                    slots.Release();
                    skipped++;
                    var skip = new SkippedImage(index, path, outcome.Error!.Message, outcome.Error);
                    _skipped.Enqueue(skip);
                    _logger.LogWarning("Skipping image {Path}: {Reason}", path, skip.Reason);
                    progress?.Report(new ImageReadProgress(index + 1, count, skipped, path));
                }
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await Task.WhenAll(workers).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The workers were told to stop; that is how they end when the consumer stops early.
            }
        }
    }

    private Outcome Load(string path)
    {
        try
        {
            // With a transform the full-size decode stays in pooled memory; only the transform's result is kept.
            PixelImage image = _options.Transform is { } transform
                ? ImageDecoder.Decode(path, _options.Decode, transform)
                : ImageDecoder.Decode(path, _options.Decode);
            return new Outcome(image, null);
        }
        catch (Exception error) when (error is InvalidDataException or IOException or UnauthorizedAccessException
                                       || (_options.Transform is not null && error is not OperationCanceledException and not OutOfMemoryException))
        {
            return new Outcome(null, error);
        }
    }

    private static string RelativeKey(string root, string path) =>
        Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/');

    private readonly record struct Outcome(PixelImage? Image, Exception? Error);
}
