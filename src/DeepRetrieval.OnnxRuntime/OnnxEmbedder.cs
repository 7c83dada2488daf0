using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using DeepRetrieval.OnnxRuntime.Models;
using DeepRetrieval.OnnxRuntime.Preprocessing;
using DeepRetrieval.Pooling;
using DeepRetrieval.Transforms;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using System.Numerics.Tensors;

namespace DeepRetrieval.OnnxRuntime;

/// <summary>
/// Embeds images with any ONNX image model that takes one N × C × H × W float input, through ONNX Runtime: an N × D output is used
/// as it is (so is N × C × 1 × 1), an N × C × H × W output (a feature map) is pooled with GeM, MAC, SPoC or R-MAC; then optional
/// PCA whitening and L2 normalisation. Input and output names and shapes are read from the model; a dynamic batch dimension runs
/// <see cref="OnnxEmbedderOptions.BatchSize"/> images at a time, a fixed one runs exactly that many and pads the last run.
/// </summary>
/// <remarks>
/// <para>Input seam: <see cref="Embed(ReadOnlySpan{float}, int, Span{float}, CancellationToken)"/> takes batches already normalised
/// with <see cref="Normalization"/> (C × H × W per image, images one after another); <see cref="InputNormalization.Normalize(ReadOnlySpan{byte}, int, int, PixelFormat, Span{float}, int)"/>
/// makes them from interleaved 8-bit pixels at the model's input size. Decoding and resizing are not done here.</para>
/// <para>Thread safety: any number of threads may embed at once; each call borrows its own pinned buffers and ONNX Runtime runs
/// sessions concurrently. Buffers are kept between calls, so steady-state embedding allocates no large arrays.</para>
/// </remarks>
public sealed class OnnxEmbedder : IDisposable
{
    private const string FingerprintFormat = "deepretrieval-onnx-embedder/1";

    private readonly InferenceSession _session;
    private readonly SessionOptions? _ownedSessionOptions;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly long[] _outputItemShape;
    private readonly int _rawDimension;
    private readonly OnnxEmbedderOptions _options;
    private readonly bool _heightIsDynamic, _widthIsDynamic;
    private readonly ConcurrentBag<RunScratch> _scratch = [];
    private int _disposed;

    /// <summary>Loads a model and prepares it for embedding.</summary>
    /// <param name="modelPath">The .onnx file.</param>
    /// <param name="options">Normalisation, output, pooling, whitening, batching and session settings; null for the defaults.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not an ONNX model, or ONNX Runtime cannot load it (the message says why).</exception>
    /// <exception cref="ArgumentException">The model is not an image model this embedder runs (not one 4-D float input, an output
    /// that is neither N × D nor N × C × H × W, no value of the requested name), or the options do not fit it (channels, input size,
    /// pooling on an N × D output, whitening dimension, conflicting session settings).</exception>
    public OnnxEmbedder(string modelPath, OnnxEmbedderOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        options ??= new OnnxEmbedderOptions();
        CheckOptions(options);
        _options = options;
        ModelPath = modelPath;

        byte[] model = OnnxModelFile.ReadBytes(modelPath);
        OnnxModelGraph graph = OnnxModelGraph.Parse(model, modelPath);
        ModelSha256 = OnnxModelFile.Sha256(model);
        bool intermediate = options.OutputName is not null && !graph.Outputs.Contains(options.OutputName);
        if (intermediate)
        {
            if (!graph.Produces(options.OutputName!))
                throw new ArgumentException(
                    $"The model '{modelPath}' has no value named '{options.OutputName}'. Its outputs are {Quote(graph.Outputs)}" +
                    (graph.LastPoolingInput is string map ? $"; the feature map its last pooling reads is '{map}'." : "."), nameof(options));
            if (graph.HasExternalData)
                throw new ArgumentException($"The model '{modelPath}' keeps weights in external data files; an intermediate output ('{options.OutputName}') can only be selected in a self-contained model.", nameof(options));
            model = OnnxModelFile.WithExtraOutputs(model, [options.OutputName!]);
        }

        _ownedSessionOptions = options.SessionOptions is null ? CreateSessionOptions(options) : null;
        try
        {
            _session = Load(modelPath, model, graph.HasExternalData && !intermediate, options.SessionOptions ?? _ownedSessionOptions!);
        }
        catch
        {
            _ownedSessionOptions?.Dispose();
            throw;
        }

        try
        {
            (_inputNames, InputChannels, InputHeight, InputWidth, FixedBatchSize, _heightIsDynamic, _widthIsDynamic) = InspectInput(options);
            BatchSize = FixedBatchSize ?? options.BatchSize;
            string outputName = options.OutputName ?? _session.OutputNames[0];
            _outputNames = [outputName];
            _outputItemShape = InspectOutput(outputName);
            (Pooling, _rawDimension) = ResolvePooling(options);
            Dimension = ResolveWhitening(options);
            Configuration = BuildConfiguration();
            Fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Configuration)));
        }
        catch
        {
            Dispose();
            throw;
        }
        options.Logger?.LogInformation(
            "Loaded ONNX model {Path}: input {Input} [{Batch}, {Channels}, {Height}, {Width}], output {Output} [{OutputShape}], {Pooling}, dimension {Dimension}, fingerprint {Fingerprint}",
            modelPath, InputName, FixedBatchSize?.ToString() ?? "N", InputChannels, InputHeight, InputWidth, OutputName,
            string.Join(", ", _outputItemShape), Pooling?.Description ?? "no pooling", Dimension, Fingerprint);
    }

    /// <summary>The model file.</summary>
    public string ModelPath { get; }

    /// <summary>Lowercase hexadecimal SHA-256 of the model file's bytes.</summary>
    public string ModelSha256 { get; }

    /// <summary>The model's image input.</summary>
    public string InputName => _inputNames[0];

    /// <summary>The value embedded: a graph output or the selected intermediate value.</summary>
    public string OutputName => _outputNames[0];

    /// <summary>C of the input.</summary>
    public int InputChannels { get; }

    /// <summary>H of the input (the model's, or <see cref="OnnxEmbedderOptions.InputHeight"/> when the model's is dynamic).</summary>
    public int InputHeight { get; }

    /// <summary>W of the input.</summary>
    public int InputWidth { get; }

    /// <summary>The batch size fixed in the model, or null when its batch dimension is dynamic.</summary>
    public int? FixedBatchSize { get; }

    /// <summary>Images per inference run.</summary>
    public int BatchSize { get; }

    /// <summary>The output's shape for one image at <see cref="InputHeight"/> × <see cref="InputWidth"/>: [D] or [C, H, W].</summary>
    public IReadOnlyList<long> OutputShape => _outputItemShape;

    /// <summary>The pooling applied to a feature-map output; null when the output is already N × D.</summary>
    public IFeatureMapPooling? Pooling { get; }

    /// <summary>Length of an embedding.</summary>
    public int Dimension { get; }

    /// <summary>How input planes are made from pixels (part of the fingerprint).</summary>
    public InputNormalization Normalization => _options.Normalization;

    /// <summary>The whitening applied, or null.</summary>
    public PcaTransform? Whitening => _options.Whitening;

    /// <summary>Whether embeddings are L2-normalised.</summary>
    public bool L2Normalize => _options.L2Normalize;

    /// <summary>
    /// Everything that determines the embeddings, as text: the model file's SHA-256, input name and size, output name, normalisation,
    /// pooling, whitening (with a digest of its matrix) and L2 normalisation. Batch size, threads and execution providers are not
    /// part of it.
    /// </summary>
    public string Configuration { get; }

    /// <summary>
    /// The model's fingerprint: lowercase hexadecimal SHA-256 of <see cref="Configuration"/>. Two embedders with the same fingerprint
    /// produce the same embeddings (up to floating-point differences between execution providers); store it with a gallery and
    /// refuse to mix vectors from embedders whose fingerprints differ.
    /// </summary>
    public string Fingerprint { get; }

    /// <summary>Embeds a batch of normalised images at the embedder's input size.</summary>
    /// <param name="images"><paramref name="count"/> images of <see cref="InputChannels"/> × <see cref="InputHeight"/> ×
    /// <see cref="InputWidth"/> floats, normalised with <see cref="Normalization"/>, one after another.</param>
    /// <param name="count">The number of images; 0 does nothing.</param>
    /// <param name="embeddings">Receives <paramref name="count"/> rows of <see cref="Dimension"/> floats.</param>
    /// <param name="cancellationToken">Stops between runs, and asks ONNX Runtime to stop a run in progress.</param>
    /// <exception cref="ArgumentException">The spans do not hold exactly <paramref name="count"/> images and embeddings.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The embedder was disposed.</exception>
    public void Embed(ReadOnlySpan<float> images, int count, Span<float> embeddings, CancellationToken cancellationToken = default) =>
        Embed(images, count, InputHeight, InputWidth, embeddings, cancellationToken);

    /// <summary>Embeds a batch of normalised images into a new array (see the span overload).</summary>
    /// <param name="images">The images, one after another.</param>
    /// <param name="count">The number of images.</param>
    /// <param name="cancellationToken">Stops between runs.</param>
    /// <returns><paramref name="count"/> rows of <see cref="Dimension"/> floats.</returns>
    /// <exception cref="ArgumentException">The span does not hold exactly <paramref name="count"/> images.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The embedder was disposed.</exception>
    public float[] Embed(ReadOnlySpan<float> images, int count, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var embeddings = new float[(long)count * Dimension];
        Embed(images, count, embeddings, cancellationToken);
        return embeddings;
    }

    /// <summary>
    /// Embeds a batch at another input size, for models whose height or width is dynamic (fully convolutional backbones used at
    /// several scales). Sizes the model fixes must be kept.
    /// </summary>
    /// <param name="images"><paramref name="count"/> images of <see cref="InputChannels"/> × <paramref name="height"/> × <paramref name="width"/> floats.</param>
    /// <param name="count">The number of images.</param>
    /// <param name="height">H of these images.</param>
    /// <param name="width">W of these images.</param>
    /// <param name="embeddings">Receives <paramref name="count"/> rows of <see cref="Dimension"/> floats.</param>
    /// <param name="cancellationToken">Stops between runs, and asks ONNX Runtime to stop a run in progress.</param>
    /// <exception cref="ArgumentException">A size the model fixes differs, or the spans do not hold exactly <paramref name="count"/> images and embeddings.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The embedder was disposed.</exception>
    public void Embed(ReadOnlySpan<float> images, int count, int height, int width, Span<float> embeddings, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        if ((!_heightIsDynamic && height != InputHeight) || (!_widthIsDynamic && width != InputWidth))
            throw new ArgumentException($"The model '{ModelPath}' takes {InputHeight} × {InputWidth} images" +
                $"{(_heightIsDynamic || _widthIsDynamic ? " (only its dynamic dimensions may change)" : "")}; got {height} × {width}.", nameof(height));
        long itemLength = (long)InputChannels * height * width;
        if (itemLength > Array.MaxLength)
            throw new ArgumentException($"A {InputChannels} × {height} × {width} image is too large.", nameof(height));
        if (images.Length != count * itemLength)
            throw new ArgumentException(
                $"Expected {count} image(s) of {InputChannels} × {height} × {width} = {itemLength} floats ({count * itemLength} in all); got {images.Length} floats." +
                (count > 0 && images.Length % itemLength != 0 ? " Check the channel count and size; the model's input is N × C × H × W." : ""), nameof(images));
        if (embeddings.Length != (long)count * Dimension)
            throw new ArgumentException($"The output must hold {count} embedding(s) of {Dimension} floats ({(long)count * Dimension}); got {embeddings.Length}.", nameof(embeddings));
        if (count == 0)
            return;
        bool knownShape = height == InputHeight && width == InputWidth;
        RunAll(images, count, height, width, (int)itemLength, knownShape, embeddings, cancellationToken);
    }

    /// <summary>
    /// Embeds one image given as interleaved 8-bit pixels at the model's input size: <see cref="Normalization"/> makes the planes,
    /// then <see cref="Embed(ReadOnlySpan{float}, int, Span{float}, CancellationToken)"/>. Convenient for a query image.
    /// </summary>
    /// <param name="pixels">H × W pixels of <paramref name="format"/>, rows <paramref name="rowBytes"/> apart.</param>
    /// <param name="width">W; must be <see cref="InputWidth"/>.</param>
    /// <param name="height">H; must be <see cref="InputHeight"/>.</param>
    /// <param name="format">The pixel layout.</param>
    /// <param name="rowBytes">Bytes from one row to the next; 0 for tightly packed rows.</param>
    /// <returns>The embedding, <see cref="Dimension"/> floats.</returns>
    /// <exception cref="ArgumentException">The image is not the model's input size, or the pixels do not fit the format or channels.</exception>
    /// <exception cref="ObjectDisposedException">The embedder was disposed.</exception>
    public float[] EmbedPixels(ReadOnlySpan<byte> pixels, int width, int height, PixelFormat format, int rowBytes = 0)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (width != InputWidth || height != InputHeight)
            throw new ArgumentException($"The model '{ModelPath}' takes {InputWidth} × {InputHeight} (W × H) images; got {width} × {height}. Resize first.", nameof(pixels));
        float[] planes = Normalization.Normalize(pixels, width, height, format, rowBytes);
        return Embed(planes, 1);
    }

    /// <summary>Embeds one decoded image of the image package, already at the model's input size (see <see cref="EmbedPixels(ReadOnlySpan{byte}, int, int, PixelFormat, int)"/>).</summary>
    /// <param name="image">The image; <see cref="Extraction.OnnxFeatureExtractor"/> decodes, resizes and crops files for you.</param>
    /// <returns>The embedding, <see cref="Dimension"/> floats.</returns>
    /// <exception cref="ArgumentException">The image is not the model's input size, or a colour image for a one-channel model.</exception>
    /// <exception cref="ObjectDisposedException">The embedder was disposed.</exception>
    public float[] EmbedPixels(DeepRetrieval.Imaging.PixelImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return EmbedPixels(image.Pixels, image.Width, image.Height, InputNormalization.FormatOf(image.Format));
    }

    /// <summary>Whether the model leaves both its input height and width dynamic, so it can embed at several scales.</summary>
    public bool HasDynamicInputSize => _heightIsDynamic && _widthIsDynamic;

    /// <summary>Releases the ONNX Runtime session and the embedder's buffers.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _session?.Dispose();
        _ownedSessionOptions?.Dispose();
        while (_scratch.TryTake(out RunScratch? scratch))
            scratch.Dispose();
    }

    private void RunAll(ReadOnlySpan<float> images, int count, int height, int width, int itemLength, bool knownShape, Span<float> embeddings, CancellationToken cancellationToken)
    {
        RunScratch scratch = RentScratch();
        try
        {
            using CancellationTokenRegistration registration = cancellationToken.CanBeCanceled
                ? cancellationToken.Register(static state => ((RunOptions)state!).Terminate = true, scratch.RunOptions)
                : default;
            for (int start = 0; start < count; start += BatchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int items = Math.Min(BatchSize, count - start);
                ReadOnlySpan<float> batch = images.Slice(start * itemLength, items * itemLength);
                Span<float> target = embeddings.Slice(start * Dimension, items * Dimension);
                try
                {
                    RunBatch(scratch, batch, items, height, width, knownShape, target);
                }
                catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException("Embedding was cancelled.", cancellationToken);
                }
            }
        }
        finally
        {
            scratch.RunOptions.Terminate = false;
            _scratch.Add(scratch);
        }
    }

    private unsafe void RunBatch(RunScratch scratch, ReadOnlySpan<float> batch, int items, int height, int width, bool knownShape, Span<float> target)
    {
        int runBatch = FixedBatchSize ?? items;
        long[] inputShape = [runBatch, InputChannels, height, width];
        // A fixed batch larger than what is left is padded with zeros; the padding's outputs are dropped.
        if (runBatch != items)
        {
            Span<float> padded = scratch.PaddedInput(runBatch * batch.Length / items);
            batch.CopyTo(padded);
            padded[batch.Length..].Clear();
            batch = padded;
        }
        fixed (float* input = batch)
        {
            using OrtValue inputValue = OrtValue.CreateTensorValueWithData(
                OrtMemoryInfo.DefaultInstance, TensorElementType.Float, inputShape, (IntPtr)input, (long)batch.Length * sizeof(float));
            scratch.Inputs[0] = inputValue;
            if (knownShape)
            {
                // The output shape is known: ONNX Runtime writes straight into a pinned buffer kept between calls.
                long itemLength = ItemLength(_outputItemShape);
                Span<float> raw = scratch.Output(runBatch * (int)itemLength);
                long[] outputShape = [runBatch, .. _outputItemShape];
                fixed (float* output = raw)
                {
                    using OrtValue outputValue = OrtValue.CreateTensorValueWithData(
                        OrtMemoryInfo.DefaultInstance, TensorElementType.Float, outputShape, (IntPtr)output, (long)raw.Length * sizeof(float));
                    scratch.Outputs[0] = outputValue;
                    _session.Run(scratch.RunOptions, _inputNames, scratch.Inputs, _outputNames, scratch.Outputs);
                }
                Finish(scratch, raw[..(items * (int)itemLength)], _outputItemShape, items, target);
            }
            else
            {
                using IDisposableReadOnlyCollection<OrtValue> results = _session.Run(scratch.RunOptions, _inputNames, scratch.Inputs, _outputNames);
                long[] shape = results[0].GetTensorTypeAndShape().Shape;
                if (shape.Length != _outputItemShape.Length + 1 || shape[0] != runBatch)
                    throw new InvalidOperationException($"Output '{OutputName}' has shape [{string.Join(", ", shape)}] for {runBatch} image(s) of {height} × {width}; expected one item per image of rank {_outputItemShape.Length}.");
                long[] itemShape = shape[1..];
                ReadOnlySpan<float> raw = results[0].GetTensorDataAsSpan<float>();
                Finish(scratch, raw[..(items * (int)ItemLength(itemShape))], itemShape, items, target);
            }
            scratch.Inputs[0] = null!;
            scratch.Outputs[0] = null!;
        }
    }

    // Pooling, whitening and normalisation of the first `items` outputs of a run.
    private void Finish(RunScratch scratch, ReadOnlySpan<float> raw, long[] itemShape, int items, Span<float> target)
    {
        ReadOnlySpan<float> descriptors = raw;
        if (Pooling is not null)
        {
            Span<float> pooled = scratch.Pooled(items * _rawDimension);
            Pooling.Pool(raw, new FeatureMapShape((int)itemShape[0], (int)itemShape[1], (int)itemShape[2]), pooled);
            descriptors = pooled;
        }
        if (_options.Whitening is PcaTransform whitening)
        {
            Span<float> normalised = scratch.Pooled(items * _rawDimension);
            if (Pooling is null) descriptors.CopyTo(normalised);
            NormaliseRows(normalised, _rawDimension);
            whitening.Apply(normalised, target);
        }
        else
        {
            descriptors.CopyTo(target);
        }
        if (_options.L2Normalize)
            NormaliseRows(target, Dimension);
    }

    // x / max(‖x‖, 1e-12), torch.nn.functional.normalize's rule: a zero row stays zero.
    private static void NormaliseRows(Span<float> rows, int dimension)
    {
        for (int start = 0; start < rows.Length; start += dimension)
        {
            Span<float> row = rows.Slice(start, dimension);
            TensorPrimitives.Divide(row, MathF.Max(TensorPrimitives.Norm<float>(row), 1e-12f), row);
        }
    }

    private RunScratch RentScratch() => _scratch.TryTake(out RunScratch? scratch) ? scratch : new RunScratch();

    private static long ItemLength(long[] itemShape)
    {
        long length = 1;
        foreach (long d in itemShape) length *= d;
        return length;
    }

    private static void CheckOptions(OnnxEmbedderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options.Normalization, "options.Normalization");
        if (options.BatchSize <= 0)
            throw new ArgumentException($"BatchSize must be positive; got {options.BatchSize}.", nameof(options));
        if (options.IntraOpThreads is < 0)
            throw new ArgumentException($"IntraOpThreads must be positive (or null for ONNX Runtime's default); got {options.IntraOpThreads}.", nameof(options));
        if (options.InputHeight is <= 0 || options.InputWidth is <= 0)
            throw new ArgumentException($"InputHeight and InputWidth must be positive; got {options.InputHeight} × {options.InputWidth}.", nameof(options));
        if (options.OutputName is "")
            throw new ArgumentException("OutputName must be null (the first output) or a value name.", nameof(options));
        if (options.SessionOptions is not null && (options.IntraOpThreads is not null || options.GraphOptimizationLevel is not null
                || options.EnableMemoryArena is not null || options.AllowSpinning is not null || options.ConfigureSession is not null))
            throw new ArgumentException("With SessionOptions given, the app configures the session itself: leave IntraOpThreads, GraphOptimizationLevel, EnableMemoryArena, AllowSpinning and ConfigureSession unset.", nameof(options));
        if (options.Whitening is { IsTrained: false })
            throw new ArgumentException("The whitening PCA must be trained before it is given to the embedder.", nameof(options));
    }

    private static SessionOptions CreateSessionOptions(OnnxEmbedderOptions options)
    {
        var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = options.GraphOptimizationLevel ?? GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            InterOpNumThreads = 1,
            EnableCpuMemArena = options.EnableMemoryArena ?? true,
            EnableMemoryPattern = true,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        if (options.IntraOpThreads is int threads)
            sessionOptions.IntraOpNumThreads = threads;
        // Spinning threads starve image decoding and other work sharing the cores (see OnnxEmbedderOptions.AllowSpinning).
        sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", options.AllowSpinning == true ? "1" : "0");
        try
        {
            options.ConfigureSession?.Invoke(sessionOptions);
        }
        catch
        {
            sessionOptions.Dispose();
            throw;
        }
        return sessionOptions;
    }

    private static InferenceSession Load(string path, byte[] model, bool fromPath, SessionOptions sessionOptions)
    {
        try
        {
            // Models with external data load from their path so ONNX Runtime finds the data files next to them.
            return fromPath ? new InferenceSession(path, sessionOptions) : new InferenceSession(model, sessionOptions);
        }
        catch (OnnxRuntimeException e) when (IsModelError(e))
        {
            throw new InvalidDataException($"ONNX Runtime cannot load '{path}' as a model: {e.Message.Trim()}", e);
        }
    }

    // ONNX Runtime prefixes messages with its error code; these codes blame the model, others (execution provider, engine) do not.
    private static bool IsModelError(OnnxRuntimeException e) =>
        e.Message.StartsWith("[ErrorCode:InvalidProtobuf]", StringComparison.Ordinal)
        || e.Message.StartsWith("[ErrorCode:InvalidGraph]", StringComparison.Ordinal)
        || e.Message.StartsWith("[ErrorCode:NoModel]", StringComparison.Ordinal)
        || e.Message.StartsWith("[ErrorCode:NotImplemented]", StringComparison.Ordinal)
        || e.Message.StartsWith("[ErrorCode:InvalidArgument]", StringComparison.Ordinal)
        || e.Message.StartsWith("[ErrorCode:Fail]", StringComparison.Ordinal);

    private (string[] Names, int Channels, int Height, int Width, int? FixedBatch, bool HeightIsDynamic, bool WidthIsDynamic) InspectInput(OnnxEmbedderOptions options)
    {
        IReadOnlyDictionary<string, NodeMetadata> inputs = _session.InputMetadata;
        if (inputs.Count != 1)
            throw new ArgumentException($"The model '{ModelPath}' has {inputs.Count} inputs ({Quote(inputs.Keys)}); the embedder runs models with one image input.", nameof(options));
        (string name, NodeMetadata input) = inputs.Single();
        if (!input.IsTensor || input.ElementDataType != TensorElementType.Float)
            throw new ArgumentException($"The model '{ModelPath}' takes {DescribeType(input)} as '{name}'; the embedder feeds float32 images.", nameof(options));
        int[] dims = input.Dimensions;
        if (dims.Length != 4)
            throw new ArgumentException($"The model '{ModelPath}' takes a rank-{dims.Length} input '{name}' [{Dims(dims)}]; the embedder feeds N × C × H × W images.", nameof(options));
        int channels = dims[1] > 0 ? dims[1] : options.Normalization.Channels;
        if (channels != options.Normalization.Channels)
            throw new ArgumentException($"The model '{ModelPath}' takes {channels}-channel images, but the normalisation ({options.Normalization.Description}) makes {options.Normalization.Channels}.", nameof(options));
        int height = ResolveSize(dims[2], options.InputHeight, "height", nameof(OnnxEmbedderOptions.InputHeight));
        int width = ResolveSize(dims[3], options.InputWidth, "width", nameof(OnnxEmbedderOptions.InputWidth));
        if (options.Normalization.HasMeanImage && (height != options.Normalization.MeanImageHeight || width != options.Normalization.MeanImageWidth))
            throw new ArgumentException($"The normalisation's mean image is {options.Normalization.MeanImageHeight} × {options.Normalization.MeanImageWidth}; the model takes {height} × {width}.", nameof(options));
        int? fixedBatch = dims[0] > 0 ? dims[0] : null;
        // One batch is one float array: a model that declares more elements than an array holds is corrupt, and options that
        // ask for more are wrong; either way it is said here, not as an overflow or out-of-memory in the first embedding call.
        long declared = dims.Where(d => d > 0).Aggregate(1L, (product, d) => product > Array.MaxLength ? product : product * d);
        if (declared > Array.MaxLength)
            throw new InvalidDataException($"The model '{ModelPath}' declares an input '{name}' [{Dims(dims)}] of more than {Array.MaxLength} elements; it is not an image model this embedder can run.");
        long batchElements = (long)(fixedBatch ?? options.BatchSize) * channels * height * width;
        if (batchElements > Array.MaxLength)
            throw new ArgumentException($"A batch of {fixedBatch ?? options.BatchSize} images of {channels} × {height} × {width} is more than {Array.MaxLength} floats; lower BatchSize or the input size.", nameof(options));
        return ([name], channels, height, width, fixedBatch, dims[2] <= 0, dims[3] <= 0);
    }

    private int ResolveSize(int modelSize, int? requested, string what, string optionName)
    {
        if (modelSize > 0)
        {
            if (requested is int size && size != modelSize)
                throw new ArgumentException($"The model '{ModelPath}' fixes the input {what} at {modelSize}; {optionName} is {size}.", "options");
            return modelSize;
        }
        return requested ?? throw new ArgumentException($"The model '{ModelPath}' leaves the input {what} dynamic; set {optionName}.", "options");
    }

    private long[] InspectOutput(string name)
    {
        if (!_session.OutputMetadata.TryGetValue(name, out NodeMetadata? output))
            throw new ArgumentException($"ONNX Runtime lists no output '{name}' for '{ModelPath}'.", "options");
        if (!output.IsTensor || output.ElementDataType != TensorElementType.Float)
            throw new ArgumentException($"The model's value '{name}' is {DescribeType(output)}; the embedder needs a float32 tensor.", "options");
        int[] dims = output.Dimensions;
        if (dims.Length is not (2 or 4))
            throw new ArgumentException($"The model's value '{name}' has rank {dims.Length} [{Dims(dims)}]; the embedder takes N × D embeddings or N × C × H × W feature maps.", "options");
        if (dims[0] > 0 && dims[0] != (FixedBatchSize ?? -1))
            throw new ArgumentException($"The model's value '{name}' has a fixed first dimension {dims[0]} [{Dims(dims)}], which is not the batch of images ({(FixedBatchSize?.ToString() ?? "dynamic")}).", "options");
        if (dims.Skip(1).All(d => d > 0))
            return dims.Skip(1).Select(d => (long)d).ToArray();

        // Some sizes are symbolic (spatial sizes of fully convolutional models, values whose shape ONNX Runtime did not infer): run
        // one batch of zeros to learn them at the configured input size.
        int runBatch = FixedBatchSize ?? 1;
        var zeros = new float[(long)runBatch * InputChannels * InputHeight * InputWidth];
        using OrtValue input = OrtValue.CreateTensorValueFromMemory(zeros, [runBatch, InputChannels, InputHeight, InputWidth]);
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> results = _session.Run(runOptions, _inputNames, [input], [name]);
        long[] shape = results[0].GetTensorTypeAndShape().Shape;
        if (shape.Length != dims.Length || shape[0] != runBatch)
            throw new ArgumentException($"The model's value '{name}' comes out as [{string.Join(", ", shape)}] for a batch of {runBatch}; it is not one item per image.", "options");
        return shape[1..];
    }

    private (IFeatureMapPooling? Pooling, int RawDimension) ResolvePooling(OnnxEmbedderOptions options)
    {
        if (_outputItemShape.Length == 1)
        {
            if (options.Pooling is not null)
                throw new ArgumentException($"The model's value '{OutputName}' is already N × {_outputItemShape[0]}; pooling ({options.Pooling.Description}) applies to N × C × H × W feature maps. Leave Pooling null, or select a feature map with OutputName.", nameof(options));
            return (null, checked((int)_outputItemShape[0]));
        }
        // An N × C × 1 × 1 output (a global pool without Flatten, as many exports end) is already one vector per image.
        if (options.Pooling is null && _outputItemShape[1] == 1 && _outputItemShape[2] == 1)
            return (null, checked((int)_outputItemShape[0]));
        IFeatureMapPooling pooling = options.Pooling ?? new GemPooling(3f);
        try
        {
            return (pooling, pooling.OutputDimension(checked((int)_outputItemShape[0])));
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new ArgumentException($"The pooling {pooling.Description} does not fit the {_outputItemShape[0]}-channel maps of '{OutputName}': {e.Message}", nameof(options), e);
        }
    }

    private int ResolveWhitening(OnnxEmbedderOptions options)
    {
        if (options.Whitening is not PcaTransform whitening)
            return _rawDimension;
        if (whitening.InputDimension != _rawDimension)
            throw new ArgumentException($"The whitening takes {whitening.InputDimension}-d vectors; the {(Pooling is null ? "output" : "pooled output")} has {_rawDimension} dimensions.", nameof(options));
        return whitening.OutputDimension;
    }

    private string BuildConfiguration()
    {
        var text = new StringBuilder();
        text.Append(FingerprintFormat).Append('\n');
        text.Append("model.sha256=").Append(ModelSha256).Append('\n');
        text.Append("input=").Append(InputName).Append(' ').Append($"{InputChannels}x{InputHeight}x{InputWidth}").Append('\n');
        text.Append("output=").Append(OutputName).Append('\n');
        text.Append("normalization=").Append(Normalization.Description).Append('\n');
        text.Append("pooling=").Append(Pooling?.Description ?? "none").Append('\n');
        text.Append("whitening=").Append(Whitening is null ? "none" : DescribeWhitening(Whitening)).Append('\n');
        text.Append("l2=").Append(L2Normalize ? "true" : "false").Append('\n');
        return text.ToString();
    }

    private static string DescribeWhitening(PcaTransform pca)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(MemoryMarshal.AsBytes(pca.Mean));
        hash.AppendData(MemoryMarshal.AsBytes(pca.Matrix));
        return $"PCA({pca.InputDimension}->{pca.OutputDimension},whiten={(pca.Whiten ? "true" : "false")}):sha256={Convert.ToHexStringLower(hash.GetHashAndReset())}";
    }

    private static string DescribeType(NodeMetadata metadata) =>
        metadata.IsTensor ? $"a {metadata.ElementDataType} tensor" : $"a {metadata.OnnxValueType}";

    private static string Dims(int[] dims) => string.Join(", ", dims.Select(d => d > 0 ? d.ToString() : "?"));

    private static string Quote(IEnumerable<string> names) => string.Join(", ", names.Select(n => $"'{n}'"));

    /// <summary>The pinned buffers and run options one embedding call uses, kept for the next call.</summary>
    private sealed class RunScratch : IDisposable
    {
        private float[] _padded = [];
        private float[] _output = [];
        private float[] _pooled = [];

        public RunOptions RunOptions { get; } = new();

        public OrtValue[] Inputs { get; } = new OrtValue[1];

        public OrtValue[] Outputs { get; } = new OrtValue[1];

        public Span<float> PaddedInput(int length) => Buffer(ref _padded, length);

        public Span<float> Output(int length) => Buffer(ref _output, length);

        public Span<float> Pooled(int length) => Buffer(ref _pooled, length);

        public void Dispose() => RunOptions.Dispose();

        // Pinned (pinned object heap) so ONNX Runtime can read and write them through pointers without the GC moving them.
        private static Span<float> Buffer(ref float[] buffer, int length)
        {
            if (buffer.Length < length)
                buffer = GC.AllocateUninitializedArray<float>(length, pinned: true);
            return buffer.AsSpan(0, length);
        }
    }
}
