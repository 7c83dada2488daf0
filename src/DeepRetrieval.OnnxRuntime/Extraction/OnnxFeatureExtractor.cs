using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using DeepRetrieval.Imaging;
using DeepRetrieval.Imaging.IO;
using DeepRetrieval.Imaging.Processing;
using DeepRetrieval.Indexes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DeepRetrieval.OnnxRuntime.Extraction;

/// <summary>
/// Embeds image files with an <see cref="OnnxEmbedder"/>: folder (or file list) → ids + vectors → any <see cref="IVectorIndex"/>
/// or a <c>.npy</c> file, as the Torch package's <c>FeatureExtractor</c> does. Worker threads decode (EXIF orientation applied),
/// resize and crop to the model's input (<see cref="OnnxExtractionOptions.Preparation"/>) and normalise, through a bounded queue;
/// the model runs in batches of <see cref="OnnxEmbedder.BatchSize"/>. Files that cannot be read are skipped, logged and listed;
/// optional test-time augmentation embeds each image at several scales and flipped left-right, averages the views (each
/// L2-normalised first when the embedder normalises) and normalises the average again.
/// </summary>
/// <remarks>One run at a time per instance (<see cref="Skipped"/> and <see cref="Times"/> describe the current or last run); the
/// embedder may be shared with other code.</remarks>
public sealed class OnnxFeatureExtractor
{
    private readonly ILogger _logger;
    private readonly ImageDecodeOptions _decodeOptions;
    private readonly (int Width, int Height)[] _scaleSizes;
    private readonly ConcurrentQueue<SkippedImage> _skipped = new();
    private long _decodeTicks, _prepareTicks, _embedTicks, _wallTicks;

    /// <summary>Creates an extractor.</summary>
    /// <param name="embedder">The model; not disposed by the extractor.</param>
    /// <param name="options">Preparation, augmentation and threads; null for the defaults.</param>
    /// <param name="logger">Receives the start and summary of each run and a warning per skipped file; null for none.</param>
    /// <exception cref="ArgumentException">The options are invalid, or ask for several scales of a model whose input size is fixed.</exception>
    public OnnxFeatureExtractor(OnnxEmbedder embedder, OnnxExtractionOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(embedder);
        Options = options ?? new OnnxExtractionOptions();
        Options.Validate();
        Embedder = embedder;
        _logger = logger ?? NullLogger.Instance;
        if (!embedder.HasDynamicInputSize && Options.Scales.Any(s => s != 1.0))
            throw new ArgumentException(
                $"The model '{embedder.ModelPath}' fixes its input at {embedder.InputHeight} × {embedder.InputWidth}, so it cannot embed at scales " +
                $"[{string.Join(", ", Options.Scales)}]; multi-scale needs a model with dynamic height and width. Keep Scales = [1] (a flip still works).", nameof(options));
        _scaleSizes = [.. Options.Scales.Select(s => (Math.Max(1, (int)Math.Round(embedder.InputWidth * s)), Math.Max(1, (int)Math.Round(embedder.InputHeight * s))))];
        int largestWidth = _scaleSizes.Max(s => s.Width), largestHeight = _scaleSizes.Max(s => s.Height);
        _decodeOptions = new ImageDecodeOptions
        {
            Format = embedder.InputChannels == 1 ? PixelFormat.Gray8 : PixelFormat.Rgb24,
            MaxPixels = Options.MaxPixels,
            DraftSize = Options.DraftDecode ? new ImageSize(2 * largestWidth, 2 * largestHeight) : null,
        };
    }

    /// <summary>The model.</summary>
    public OnnxEmbedder Embedder { get; }

    /// <summary>The settings in use.</summary>
    public OnnxExtractionOptions Options { get; }

    /// <summary>Forward passes per image: scales × (2 with a flip, else 1).</summary>
    public int ViewsPerImage => Options.Scales.Count * (Options.HorizontalFlip ? 2 : 1);

    /// <summary>Length of an embedding.</summary>
    public int Dimension => Embedder.Dimension;

    /// <summary>Files skipped by the current or last run, in list order once it has finished.</summary>
    public IReadOnlyList<SkippedImage> Skipped => [.. _skipped.OrderBy(s => s.Index)];

    /// <summary>Where the current or last run spent its time.</summary>
    public ExtractionStageTimes Times => new(
        TimeSpan.FromTicks(Interlocked.Read(ref _decodeTicks)), TimeSpan.FromTicks(Interlocked.Read(ref _prepareTicks)),
        TimeSpan.FromTicks(Interlocked.Read(ref _embedTicks)), TimeSpan.FromTicks(Interlocked.Read(ref _wallTicks)));

    /// <summary>Prepares a decoded image as the extractor prepares files, with the same augmentation, and embeds it.</summary>
    /// <param name="image">A decoded image of any size (grey or colour as the model takes).</param>
    /// <param name="cancellationToken">Stops the model run.</param>
    /// <returns>The embedding, <see cref="Dimension"/> floats.</returns>
    public float[] Embed(PixelImage image, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        PixelImage input = image.Format == _decodeOptions.Format ? image : image.ConvertTo(_decodeOptions.Format);
        Prepared prepared = PrepareViews(0, "<image>", input);
        try
        {
            var embedding = new float[Dimension];
            EmbedBatch([prepared], [embedding], cancellationToken);
            return embedding;
        }
        finally
        {
            prepared.Release();
        }
    }

    /// <summary>Decodes one file as the extractor decodes folders (draft decoding included) and embeds it (a query image).</summary>
    /// <param name="path">The image file.</param>
    /// <param name="cancellationToken">Stops the model run.</param>
    /// <returns>The embedding, <see cref="Dimension"/> floats.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not an image this package decodes, or is corrupt or too large.</exception>
    public float[] EmbedFile(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Prepared? prepared = null;
        ImageDecoder.Decode(path, _decodeOptions, image =>
        {
            prepared = PrepareViews(0, path, image);
            return new PixelImage(1, 1, image.Format);
        });
        try
        {
            var embedding = new float[Dimension];
            EmbedBatch([prepared!], [embedding], cancellationToken);
            return embedding;
        }
        finally
        {
            prepared!.Release();
        }
    }

    /// <summary>Embeds every image of a folder (recursively, as <see cref="OnnxExtractionOptions.Folder"/> says), in file order.</summary>
    /// <param name="folder">The folder.</param>
    /// <param name="progress">Told after every batch and at the end; null for none.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    /// <returns>Ids are positions in <see cref="ImageFolderReader.ListFiles"/> order.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="OperationCanceledException">The run was cancelled.</exception>
    public ImageFeatures ExtractFolder(string folder, IProgress<ImageExtractionProgress>? progress = null, CancellationToken cancellationToken = default) =>
        ExtractFiles(ImageFolderReader.ListFiles(folder, Options.Folder), progress, cancellationToken);

    /// <summary>Embeds the given files; ids are their positions in the list.</summary>
    /// <param name="files">Image files (missing or unreadable ones are skipped).</param>
    /// <param name="progress">Told after every batch and at the end; null for none.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    /// <exception cref="OperationCanceledException">The run was cancelled.</exception>
    public ImageFeatures ExtractFiles(IReadOnlyList<string> files, IProgress<ImageExtractionProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        var rows = new List<EmbeddedImage>(files.Count);
        IAsyncEnumerator<EmbeddedImage> enumerator = EmbedFilesAsync(files, progress, cancellationToken).GetAsyncEnumerator(cancellationToken);
        try
        {
            while (enumerator.MoveNextAsync().AsTask().GetAwaiter().GetResult())
                rows.Add(enumerator.Current);
        }
        finally
        {
            enumerator.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        rows.Sort((a, b) => a.Index.CompareTo(b.Index));
        var vectors = new float[(long)rows.Count * Dimension];
        for (int i = 0; i < rows.Count; i++)
            rows[i].Embedding.CopyTo(vectors, (long)i * Dimension);
        return new ImageFeatures([.. rows.Select(r => (long)r.Index)], [.. rows.Select(r => r.Path)], vectors, Dimension, Skipped, Times);
    }

    /// <summary>Embeds every image of a folder into an index under their ids (training it on them first when needed).</summary>
    /// <param name="folder">The folder.</param>
    /// <param name="index">The index; its dimension must equal <see cref="Dimension"/>.</param>
    /// <param name="progress">Told after every batch and at the end; null for none.</param>
    /// <param name="cancellationToken">Stops the run (the index is left unchanged).</param>
    /// <returns>The embeddings that were added.</returns>
    public ImageFeatures ExtractFolderToIndex(string folder, IVectorIndex index, IProgress<ImageExtractionProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(index);
        if (index.Dimension != Dimension)
            throw new ArgumentException($"The index takes {index.Dimension}-dimensional vectors; the model embeds {Dimension}.", nameof(index));
        ImageFeatures features = ExtractFolder(folder, progress, cancellationToken);
        features.AddTo(index);
        return features;
    }

    /// <summary>Embeds every image of a folder and writes the rows to a float32 <c>.npy</c> file (row i is <c>Paths[i]</c> of the result).</summary>
    /// <param name="folder">The folder.</param>
    /// <param name="path">Destination file, replaced atomically.</param>
    /// <param name="progress">Told after every batch and at the end; null for none.</param>
    /// <param name="cancellationToken">Stops the run (nothing is written).</param>
    public ImageFeatures ExtractFolderToNpy(string folder, string path, IProgress<ImageExtractionProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ImageFeatures features = ExtractFolder(folder, progress, cancellationToken);
        features.SaveNpy(path);
        return features;
    }

    /// <summary>
    /// Embeds files as a stream, yielding each embedding as soon as its batch is done (in completion order, not list order):
    /// for callers that save as they go, e.g. to resume an interrupted run. Skipped files are in <see cref="Skipped"/>.
    /// </summary>
    /// <param name="files">Image files.</param>
    /// <param name="progress">Told after every batch and at the end; null for none.</param>
    /// <param name="cancellationToken">Stops the workers and the stream.</param>
    public async IAsyncEnumerable<EmbeddedImage> EmbedFilesAsync(IReadOnlyList<string> files, IProgress<ImageExtractionProgress>? progress = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        _skipped.Clear();
        _decodeTicks = _prepareTicks = _embedTicks = _wallTicks = 0;
        int count = files.Count;
        var clock = Stopwatch.StartNew();
        _logger.LogInformation("Embedding {Count} files with {Model} ({Dimension}-d), {Views} view(s) per image, {Preparation}",
            count, Path.GetFileName(Embedder.ModelPath), Dimension, ViewsPerImage, Options.Description);
        if (count == 0)
        {
            progress?.Report(new ImageExtractionProgress(0, 0, 0, clock.Elapsed, null));
            yield break;
        }

        int batchSize = Embedder.BatchSize;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        CancellationToken token = stop.Token;
        Channel<Prepared> queue = Channel.CreateBounded<Prepared>(new BoundedChannelOptions(Options.EffectiveQueueCapacity(batchSize))
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        int next = -1;
        var workers = new Task[Math.Min(Options.DecodeThreads, count)];
        for (int w = 0; w < workers.Length; w++)
        {
            workers[w] = Task.Run(async () =>
            {
                while (true)
                {
                    int index = Interlocked.Increment(ref next);
                    if (index >= count)
                        return;
                    token.ThrowIfCancellationRequested();
                    Prepared prepared = Load(index, files[index]);
                    try
                    {
                        await queue.Writer.WriteAsync(prepared, token).ConfigureAwait(false);
                    }
                    catch
                    {
                        prepared.Release();
                        throw;
                    }
                }
            }, token);
        }
        // The queue completes when every worker has ended; a worker's failure (not a bad file: those are items) ends the stream with it.
        _ = Task.WhenAll(workers).ContinueWith(
            done => queue.Writer.TryComplete(done.IsFaulted ? done.Exception!.InnerException : null),
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        var batch = new List<Prepared>(batchSize);
        long processed = 0, skipped = 0;
        string? lastPath = null;
        try
        {
            while (true)
            {
                bool more = await queue.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false);
                while (more && batch.Count < batchSize && queue.Reader.TryRead(out Prepared? item))
                {
                    lastPath = item.Path;
                    if (item.Error is { } error)
                    {
                        skipped++;
                        _skipped.Enqueue(new SkippedImage(item.Index, item.Path, error.Message, error));
                        _logger.LogWarning("Skipping image {Path}: {Reason}", item.Path, error.Message);
                        continue;
                    }
                    batch.Add(item);
                }
                // Embed when the batch is full, or when nothing more is coming right now and the stream has ended.
                if (batch.Count == batchSize || (!more && batch.Count > 0))
                {
                    var embeddings = new float[batch.Count][];
                    for (int i = 0; i < embeddings.Length; i++)
                        embeddings[i] = new float[Dimension];
                    try
                    {
                        EmbedBatch(batch, embeddings, cancellationToken);
                    }
                    finally
                    {
                        foreach (Prepared item in batch)
                            item.Release();
                    }
                    var done = new EmbeddedImage[batch.Count];
                    for (int i = 0; i < done.Length; i++)
                        done[i] = new EmbeddedImage(batch[i].Index, batch[i].Path, embeddings[i]);
                    batch.Clear();
                    processed += done.Length;
                    Interlocked.Exchange(ref _wallTicks, clock.Elapsed.Ticks);
                    progress?.Report(new ImageExtractionProgress(processed, skipped, count, clock.Elapsed, lastPath));
                    foreach (EmbeddedImage item in done)
                        yield return item;
                }
                else if (!more)
                {
                    break;
                }
            }
            await queue.Reader.Completion.ConfigureAwait(false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            foreach (Prepared item in batch)
                item.Release();
            try
            {
                await Task.WhenAll(workers).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The workers were told to stop; that is how they end when the consumer stops early.
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
            }
            while (queue.Reader.TryRead(out Prepared? left))
                left.Release();
            Interlocked.Exchange(ref _wallTicks, clock.Elapsed.Ticks);
        }
        progress?.Report(new ImageExtractionProgress(processed, skipped, count, clock.Elapsed, lastPath));
        ExtractionStageTimes times = Times;
        _logger.LogInformation(
            "Embedded {Processed} images ({Skipped} skipped) in {Elapsed:F2} s, {Rate:F1} images/s; decode {Decode:F2} s, prepare {Prepare:F2} s (thread time), embed {Embed:F2} s",
            processed, skipped, clock.Elapsed.TotalSeconds, processed / Math.Max(clock.Elapsed.TotalSeconds, 1e-9),
            times.Decode.TotalSeconds, times.Prepare.TotalSeconds, times.Embed.TotalSeconds);
    }

    // Decodes and prepares one file on a worker thread; a bad file becomes an item carrying its error.
    private Prepared Load(int index, string path)
    {
        long start = Stopwatch.GetTimestamp();
        long decoded = 0;
        Prepared? prepared = null;
        try
        {
            ImageDecoder.Decode(path, _decodeOptions, image =>
            {
                decoded = Stopwatch.GetTimestamp();
                prepared = PrepareViews(index, path, image);
                // The decoder wants an image back; the views are the result, so hand back a 1 × 1 placeholder.
                return new PixelImage(1, 1, image.Format);
            });
            return prepared!;
        }
        catch (Exception error) when (error is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            prepared?.Release();
            return new Prepared(index, path, error);
        }
        finally
        {
            long end = Stopwatch.GetTimestamp();
            long decodeEnd = decoded == 0 ? end : decoded;
            Interlocked.Add(ref _decodeTicks, Stopwatch.GetElapsedTime(start, decodeEnd).Ticks);
            Interlocked.Add(ref _prepareTicks, Stopwatch.GetElapsedTime(decodeEnd, end).Ticks);
        }
    }

    private Prepared PrepareViews(int index, string path, PixelImage image)
    {
        int flips = Options.HorizontalFlip ? 2 : 1;
        var planes = new float[_scaleSizes.Length * flips][];
        var prepared = new Prepared(index, path, planes);
        try
        {
            for (int s = 0; s < _scaleSizes.Length; s++)
            {
                (int width, int height) = _scaleSizes[s];
                PixelImage view = Fit(image, width, height);
                int length = Embedder.InputChannels * width * height;
                for (int f = 0; f < flips; f++)
                {
                    PixelImage oriented = f == 0 ? view : view.FlipHorizontal();
                    float[] buffer = ArrayPool<float>.Shared.Rent(length);
                    planes[s * flips + f] = buffer;
                    Embedder.Normalization.Normalize(oriented, buffer.AsSpan(0, length));
                }
            }
        }
        catch
        {
            prepared.Release();
            throw;
        }
        return prepared;
    }

    private PixelImage Fit(PixelImage image, int width, int height)
    {
        switch (Options.Preparation)
        {
            case ImagePreparation.Stretch:
                return image.Resize(width, height, Options.Filter);
            case ImagePreparation.Letterbox:
                return image.Letterbox(width, height, Options.Filter);
            default:
                // Cover width × height / fraction keeping the aspect ratio, then cut the centre. A square input follows
                // torchvision's Resize(int) rule for the longer side.
                double cover = Math.Max(width / (double)image.Width, height / (double)image.Height) / Options.CropFraction;
                ImageSize size = width == height
                    ? Resizing.ShorterSideSize(new ImageSize(image.Width, image.Height), (int)Math.Round(width / Options.CropFraction))
                    : new ImageSize(Math.Max(width, (int)Math.Round(image.Width * cover)), Math.Max(height, (int)Math.Round(image.Height * cover)));
                PixelImage resized = size.Width == image.Width && size.Height == image.Height ? image : image.Resize(size, Options.Filter);
                return resized.CenterCrop(width, height);
        }
    }

    // Runs every view of a batch through the model (one run per scale, flipped views in the same run) and averages them.
    private void EmbedBatch(IReadOnlyList<Prepared> batch, float[][] embeddings, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        int n = batch.Count, dimension = Dimension, flips = Options.HorizontalFlip ? 2 : 1;
        int views = n * flips;
        for (int s = 0; s < _scaleSizes.Length; s++)
        {
            (int width, int height) = _scaleSizes[s];
            int length = Embedder.InputChannels * width * height;
            float[] input = ArrayPool<float>.Shared.Rent(views * length);
            float[] output = ArrayPool<float>.Shared.Rent(views * dimension);
            try
            {
                for (int i = 0; i < n; i++)
                    for (int f = 0; f < flips; f++)
                        batch[i].Planes![s * flips + f].AsSpan(0, length).CopyTo(input.AsSpan((i * flips + f) * length, length));
                Embedder.Embed(input.AsSpan(0, views * length), views, height, width, output.AsSpan(0, views * dimension), cancellationToken);
                for (int i = 0; i < n; i++)
                    for (int f = 0; f < flips; f++)
                    {
                        ReadOnlySpan<float> row = output.AsSpan((i * flips + f) * dimension, dimension);
                        if (s == 0 && f == 0) row.CopyTo(embeddings[i]);
                        else TensorPrimitives.Add(embeddings[i], row, embeddings[i]);
                    }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(input);
                ArrayPool<float>.Shared.Return(output);
            }
        }
        if (ViewsPerImage > 1)
        {
            foreach (float[] embedding in embeddings)
            {
                // The embedder normalised each view; the mean of unit vectors is shorter, so it is normalised again.
                if (Embedder.L2Normalize)
                    TensorPrimitives.Divide(embedding, MathF.Max(TensorPrimitives.Norm<float>(embedding), 1e-12f), embedding);
                else
                    TensorPrimitives.Divide(embedding, ViewsPerImage, embedding);
            }
        }
        Interlocked.Add(ref _embedTicks, Stopwatch.GetElapsedTime(start).Ticks);
    }

    /// <summary>One file's input planes (one per view, rented), or the error that skipped it.</summary>
    private sealed class Prepared
    {
        public Prepared(int index, string path, float[]?[] planes)
        {
            Index = index;
            Path = path;
            Planes = planes;
        }

        public Prepared(int index, string path, Exception error)
        {
            Index = index;
            Path = path;
            Error = error;
        }

        public int Index { get; }

        public string Path { get; }

        public float[]?[]? Planes { get; }

        public Exception? Error { get; }

        public void Release()
        {
            if (Planes is null)
                return;
            for (int i = 0; i < Planes.Length; i++)
            {
                if (Planes[i] is float[] buffer)
                    ArrayPool<float>.Shared.Return(buffer);
                Planes[i] = null;
            }
        }
    }
}
