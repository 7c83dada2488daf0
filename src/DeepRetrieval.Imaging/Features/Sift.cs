namespace DeepRetrieval.Imaging.Features;

/// <summary>
/// The Scale-Invariant Feature Transform (Lowe, IJCV 2004) exactly as OpenCV 4.6's <c>cv2.SIFT_create()</c> defines it:
/// a Gaussian scale space over an up-sampled first octave with 3 intervals per octave and σ = 1.6, DoG extrema refined
/// to sub-pixel accuracy, contrast threshold 0.04 divided by the intervals, edge threshold 10, one keypoint per peak of
/// the 36-bin orientation histogram that reaches 0.8 of the highest, and the 4 × 4 × 8 descriptor with trilinear
/// interpolation, clamped at 0.2, renormalised and scaled by 512 with saturation to bytes. Keypoints carry OpenCV's
/// fields and octave packing, so they can be exchanged with OpenCV.
/// </summary>
/// <remarks>
/// <para>Input is a grey plane, row-major: bytes (0 … 255, what <c>cv2.imread(…, IMREAD_GRAYSCALE)</c> gives) or
/// floats in 0 … 1 (multiplied by 255 internally, since the thresholds are defined for 8-bit levels).</para>
/// <para>Images narrower or shorter than <see cref="MinimumImageSide"/> pixels have no room for a keypoint and its
/// border: detection returns no keypoints for them (a documented empty result, not an error).</para>
/// <para>Blurs, DoG and the neighbour test run vectorised (AVX-512 or AVX2 when present). One instance may be used
/// from several threads at once; it keeps its pyramid planes between images (about 16 · width · height floats for
/// an up-sampled pyramid, one set per concurrent call), so reuse one instance rather than creating one per image.</para>
/// </remarks>
public sealed class Sift
{
    /// <summary>Components of a SIFT descriptor: 4 × 4 spatial bins × 8 orientations.</summary>
    public const int DescriptorLength = SiftDescriptor.Length;

    /// <summary>Images with a side shorter than this yield no detected keypoints.</summary>
    public const int MinimumImageSide = 16;

    private const float FloatEpsilon = 1.1920929e-07f;

    // Pyramid planes kept between images (one set per concurrent call), so steady-state detection allocates little.
    private readonly System.Collections.Concurrent.ConcurrentBag<PyramidBuffers> _buffers = [];

    /// <summary>Creates a detector and descriptor extractor, checking the options.</summary>
    /// <param name="options">Settings; null for OpenCV's defaults.</param>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public Sift(SiftOptions? options = null)
    {
        options ??= new SiftOptions();
        if (options.MaxKeypoints < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxKeypoints, "MaxKeypoints must be 0 (all) or positive.");
        if (options.OctaveLayers is < 1 or > 16)
            throw new ArgumentOutOfRangeException(nameof(options), options.OctaveLayers, "OctaveLayers must be between 1 and 16.");
        if (!(options.ContrastThreshold >= 0) || double.IsInfinity(options.ContrastThreshold))
            throw new ArgumentOutOfRangeException(nameof(options), options.ContrastThreshold, "ContrastThreshold must be non-negative and finite.");
        if (!(options.EdgeThreshold > 0) || double.IsInfinity(options.EdgeThreshold))
            throw new ArgumentOutOfRangeException(nameof(options), options.EdgeThreshold, "EdgeThreshold must be positive and finite.");
        if (!(options.Sigma > 0) || double.IsInfinity(options.Sigma))
            throw new ArgumentOutOfRangeException(nameof(options), options.Sigma, "Sigma must be positive and finite.");
        if (!Enum.IsDefined(options.Normalization))
            throw new ArgumentOutOfRangeException(nameof(options), options.Normalization, "Unknown descriptor normalisation.");
        if (options.MaxDegreeOfParallelism < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxDegreeOfParallelism, "MaxDegreeOfParallelism must be 0 (all cores) or positive.");
        Options = options;
    }

    /// <summary>The checked settings.</summary>
    public SiftOptions Options { get; }

    /// <summary>Detects keypoints and computes their descriptors (OpenCV's <c>detectAndCompute</c>).</summary>
    /// <param name="pixels">Row-major grey levels, width × height bytes.</param>
    /// <param name="width">Image width; positive.</param>
    /// <param name="height">Image height; positive.</param>
    /// <param name="cancellationToken">Checked between pyramid octaves and keypoint batches.</param>
    /// <returns>Keypoints sorted as OpenCV sorts them (by x, then y, then decreasing size, then angle) and their descriptors.</returns>
    /// <exception cref="ArgumentException">A dimension is not positive, the image is too large, or the span length is not width × height.</exception>
    public LocalFeatures DetectAndCompute(ReadOnlySpan<byte> pixels, int width, int height, CancellationToken cancellationToken = default) =>
        Run(Levels(pixels, width, height), width, height, null, describe: true, cancellationToken).Features!;

    /// <summary>Detects keypoints and computes their descriptors from a float plane with intensities in 0 … 1.</summary>
    /// <param name="pixels">Row-major intensities in 0 … 1, width × height values, all finite.</param>
    /// <param name="width">Image width; positive.</param>
    /// <param name="height">Image height; positive.</param>
    /// <param name="cancellationToken">Checked between pyramid octaves and keypoint batches.</param>
    /// <exception cref="ArgumentException">A dimension is not positive, the image is too large, the span length is not width × height, or a value is not finite.</exception>
    public LocalFeatures DetectAndCompute(ReadOnlySpan<float> pixels, int width, int height, CancellationToken cancellationToken = default) =>
        Run(Levels(pixels, width, height), width, height, null, describe: true, cancellationToken).Features!;

    /// <summary>Detects keypoints only (OpenCV's <c>detect</c>): the same keypoints as <see cref="DetectAndCompute(ReadOnlySpan{byte}, int, int, CancellationToken)"/>.</summary>
    /// <param name="pixels">Row-major grey levels, width × height bytes.</param>
    /// <param name="width">Image width; positive.</param>
    /// <param name="height">Image height; positive.</param>
    /// <param name="cancellationToken">Checked between pyramid octaves.</param>
    public Keypoint[] Detect(ReadOnlySpan<byte> pixels, int width, int height, CancellationToken cancellationToken = default) =>
        Run(Levels(pixels, width, height), width, height, null, describe: false, cancellationToken).Keypoints;

    /// <summary>Detects keypoints only, from a float plane with intensities in 0 … 1.</summary>
    /// <param name="pixels">Row-major intensities in 0 … 1, width × height values, all finite.</param>
    /// <param name="width">Image width; positive.</param>
    /// <param name="height">Image height; positive.</param>
    /// <param name="cancellationToken">Checked between pyramid octaves.</param>
    public Keypoint[] Detect(ReadOnlySpan<float> pixels, int width, int height, CancellationToken cancellationToken = default) =>
        Run(Levels(pixels, width, height), width, height, null, describe: false, cancellationToken).Keypoints;

    /// <summary>
    /// Computes descriptors for given keypoints (OpenCV's <c>compute</c>, or <c>detectAndCompute</c> with
    /// <c>useProvidedKeypoints</c>): each is described on the pyramid level its <see cref="Keypoint.Octave"/> names, at its
    /// position, size and angle. Keypoints from <see cref="Detect(ReadOnlySpan{byte}, int, int, CancellationToken)"/> or
    /// <see cref="DenseGrid"/> carry the right level; a keypoint made with octave 0 is described at the input resolution.
    /// </summary>
    /// <param name="pixels">Row-major grey levels, width × height bytes.</param>
    /// <param name="width">Image width; positive.</param>
    /// <param name="height">Image height; positive.</param>
    /// <param name="keypoints">The keypoints, kept in this order; may be empty.</param>
    /// <param name="cancellationToken">Checked between pyramid octaves and keypoint batches.</param>
    /// <exception cref="ArgumentException">
    /// Bad image arguments, or a keypoint has a non-finite position, a non-positive size, an octave below −1, a layer
    /// above intervals + 2, or an octave too coarse for the image.
    /// </exception>
    public LocalFeatures Compute(ReadOnlySpan<byte> pixels, int width, int height, ReadOnlySpan<Keypoint> keypoints, CancellationToken cancellationToken = default) =>
        Run(Levels(pixels, width, height), width, height, keypoints.ToArray(), describe: true, cancellationToken).Features!;

    /// <summary>Computes descriptors for given keypoints from a float plane with intensities in 0 … 1; see the byte overload.</summary>
    /// <param name="pixels">Row-major intensities in 0 … 1, width × height values, all finite.</param>
    /// <param name="width">Image width; positive.</param>
    /// <param name="height">Image height; positive.</param>
    /// <param name="keypoints">The keypoints, kept in this order; may be empty.</param>
    /// <param name="cancellationToken">Checked between pyramid octaves and keypoint batches.</param>
    public LocalFeatures Compute(ReadOnlySpan<float> pixels, int width, int height, ReadOnlySpan<Keypoint> keypoints, CancellationToken cancellationToken = default) =>
        Run(Levels(pixels, width, height), width, height, keypoints.ToArray(), describe: true, cancellationToken).Features!;

    /// <summary>Dense SIFT: describes the keypoints of <paramref name="grid"/> (upright, fixed sizes) instead of detected ones.</summary>
    /// <param name="pixels">Row-major grey levels, width × height bytes.</param>
    /// <param name="width">Image width; positive.</param>
    /// <param name="height">Image height; positive.</param>
    /// <param name="grid">Step, sizes and offset of the grid.</param>
    /// <param name="cancellationToken">Checked between pyramid octaves and keypoint batches.</param>
    public LocalFeatures ComputeDense(ReadOnlySpan<byte> pixels, int width, int height, DenseGrid grid, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(grid);
        CheckSize(pixels.Length, width, height);
        return Compute(pixels, width, height, grid.Keypoints(width, height, Options.Sigma, Options.OctaveLayers), cancellationToken);
    }

    /// <summary>Dense SIFT from a float plane with intensities in 0 … 1; see the byte overload.</summary>
    /// <param name="pixels">Row-major intensities in 0 … 1, width × height values, all finite.</param>
    /// <param name="width">Image width; positive.</param>
    /// <param name="height">Image height; positive.</param>
    /// <param name="grid">Step, sizes and offset of the grid.</param>
    /// <param name="cancellationToken">Checked between pyramid octaves and keypoint batches.</param>
    public LocalFeatures ComputeDense(ReadOnlySpan<float> pixels, int width, int height, DenseGrid grid, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(grid);
        CheckSize(pixels.Length, width, height);
        return Compute(pixels, width, height, grid.Keypoints(width, height, Options.Sigma, Options.OctaveLayers), cancellationToken);
    }

    private static void CheckSize(int length, int width, int height)
    {
        if (width <= 0 || height <= 0)
            throw new ArgumentOutOfRangeException(width <= 0 ? nameof(width) : nameof(height), $"The image must be at least 1 × 1 pixels; got {width} × {height}.");
        // The up-sampled first octave holds 4 · width · height floats.
        if ((long)width * height * 4 > Array.MaxLength)
            throw new ArgumentException($"A {width} × {height} image is too large for SIFT's up-sampled pyramid.", nameof(width));
        if (length != (long)width * height)
            throw new ArgumentException($"A {width} × {height} image needs {(long)width * height} pixels; got {length}.", "pixels");
    }

    private static float[] Levels(ReadOnlySpan<byte> pixels, int width, int height)
    {
        CheckSize(pixels.Length, width, height);
        var levels = new float[pixels.Length];
        for (int i = 0; i < levels.Length; i++) levels[i] = pixels[i];
        return levels;
    }

    private static float[] Levels(ReadOnlySpan<float> pixels, int width, int height)
    {
        CheckSize(pixels.Length, width, height);
        if (!System.Numerics.Tensors.TensorPrimitives.IsFiniteAll(pixels))
            throw new ArgumentException("Pixel values must be finite (no NaN or infinity).", nameof(pixels));
        var levels = new float[pixels.Length];
        System.Numerics.Tensors.TensorPrimitives.Multiply(pixels, 255f, levels);
        return levels;
    }

    private int Threads => Options.MaxDegreeOfParallelism == 0 ? Environment.ProcessorCount : Options.MaxDegreeOfParallelism;

    private (Keypoint[] Keypoints, LocalFeatures? Features) Run(float[] image, int width, int height, Keypoint[]? provided, bool describe,
        CancellationToken cancellationToken)
    {
        int layers = Options.OctaveLayers;
        int firstOctave, octaves;
        if (provided is null)
        {
            if (Math.Min(width, height) < MinimumImageSide)
                return ([], describe ? Empty() : null);
            firstOctave = Options.UpsampleFirstOctave ? -1 : 0;
            octaves = ScaleSpace.AutomaticOctaves(width, height, firstOctave);
        }
        else
        {
            (firstOctave, octaves) = ProvidedLevels(provided, width, height);
            if (provided.Length == 0) return ([], Empty());
        }

        if (!_buffers.TryTake(out PyramidBuffers? buffers)) buffers = new PyramidBuffers();
        Keypoint[] keypoints;
        float[] descriptors;
        try
        {
            ScaleSpace space = ScaleSpace.Build(image, width, height, octaves, layers, firstOctave, Options.Sigma,
                withDog: provided is null, Threads, buffers, cancellationToken);
            keypoints = provided ?? Detect(space, cancellationToken);
            if (!describe) return (keypoints, null);
            descriptors = new float[keypoints.Length * DescriptorLength];
            ComputeDescriptors(space, keypoints, descriptors, cancellationToken);
        }
        finally
        {
            _buffers.Add(buffers);
        }
        float byteScale = 1f;
        if (Options.Normalization == SiftDescriptorNormalization.RootSift)
        {
            RootSift.Apply(descriptors, DescriptorLength);
            byteScale = 255f;
        }
        return (keypoints, new LocalFeatures(keypoints, descriptors, DescriptorLength, byteScale));
    }

    private LocalFeatures Empty() =>
        new([], [], DescriptorLength, Options.Normalization == SiftDescriptorNormalization.RootSift ? 255f : 1f);

    // OpenCV's useProvidedKeypoints branch: the pyramid spans the octaves the keypoints name, starting at −1 or 0.
    private (int FirstOctave, int Octaves) ProvidedLevels(Keypoint[] keypoints, int width, int height)
    {
        int firstOctave = 0, maxOctave = int.MinValue;
        for (int i = 0; i < keypoints.Length; i++)
        {
            Keypoint k = keypoints[i];
            if (!float.IsFinite(k.X) || !float.IsFinite(k.Y) || !(k.Size > 0) || !float.IsFinite(k.Size) || !float.IsFinite(k.Angle))
                throw new ArgumentException($"Keypoint {i} has a non-finite position or angle, or a non-positive size: {k}.", "keypoints");
            int octave = k.OctaveIndex, layer = k.Layer;
            if (octave < -1)
                throw new ArgumentException($"Keypoint {i} names octave {octave}; SIFT's pyramid starts at octave -1.", "keypoints");
            if (layer > Options.OctaveLayers + 2)
                throw new ArgumentException($"Keypoint {i} names layer {layer}; with {Options.OctaveLayers} intervals the layers are 0 … {Options.OctaveLayers + 2}.", "keypoints");
            firstOctave = Math.Min(firstOctave, octave);
            maxOctave = Math.Max(maxOctave, octave);
        }
        if (keypoints.Length == 0) return (0, 1);
        int octaves = maxOctave - firstOctave + 1;
        int side = Math.Min(width, height) << (firstOctave < 0 ? 1 : 0);
        if (side >> (octaves - 1) < 1)
            throw new ArgumentException($"A keypoint names octave {maxOctave}, beyond the pyramid of a {width} × {height} image.", "keypoints");
        return (firstOctave, octaves);
    }

    private Keypoint[] Detect(ScaleSpace space, CancellationToken cancellationToken)
    {
        var detector = new ExtremaDetector(space, Options);
        var work = new List<(int Octave, int Layer)>();
        for (int o = 0; o < space.Octaves; o++)
            for (int i = 1; i <= space.Layers; i++)
                work.Add((o, i));
        var found = new List<Keypoint>[work.Count];
        int threads = Math.Min(Threads, work.Count);
        if (threads <= 1)
        {
            var scratch = new OrientationScratch();
            for (int w = 0; w < work.Count; w++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                found[w] = FindInLayer(detector, work[w], scratch);
            }
        }
        else
        {
            Parallel.For(0, work.Count, new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken },
                () => new OrientationScratch(), (w, _, scratch) =>
                {
                    found[w] = FindInLayer(detector, work[w], scratch);
                    return scratch;
                }, _ => { });
        }
        var keypoints = found.SelectMany(list => list).ToArray();
        keypoints = KeypointFilter.RemoveDuplicatesSorted(keypoints);
        if (Options.MaxKeypoints > 0) keypoints = KeypointFilter.RetainBest(keypoints, Options.MaxKeypoints);
        if (space.FirstOctave < 0)
        {
            // Back from the up-sampled octave's pixels to the input's, and octave indices from 0-based to −1-based.
            float scale = 1f / (1 << -space.FirstOctave);
            for (int i = 0; i < keypoints.Length; i++)
            {
                Keypoint k = keypoints[i];
                int octave = (k.Octave & ~255) | ((k.Octave + space.FirstOctave) & 255);
                keypoints[i] = k with { X = k.X * scale, Y = k.Y * scale, Size = k.Size * scale, Octave = octave };
            }
        }
        return keypoints;
    }

    private static List<Keypoint> FindInLayer(ExtremaDetector detector, (int Octave, int Layer) work, OrientationScratch scratch)
    {
        var list = new List<Keypoint>();
        (int start, int end) = detector.CandidateRows(work.Octave);
        if (end > start) detector.FindInLayer(work.Octave, work.Layer, start, end, list, scratch);
        return list;
    }

    private void ComputeDescriptors(ScaleSpace space, Keypoint[] keypoints, float[] descriptors, CancellationToken cancellationToken)
    {
        const int batch = 256;
        int batches = (keypoints.Length + batch - 1) / batch;
        void Describe(int b, OrientationScratch scratch)
        {
            int end = Math.Min(keypoints.Length, (b + 1) * batch);
            for (int i = b * batch; i < end; i++)
            {
                Keypoint k = keypoints[i];
                int octave = k.OctaveIndex, layer = k.Layer;
                float scale = octave >= 0 ? 1f / (1 << octave) : 1 << -octave;
                int o = octave - space.FirstOctave;
                float angle = 360f - k.Angle;
                if (MathF.Abs(angle - 360f) < FloatEpsilon) angle = 0f;
                SiftDescriptor.Compute(space.Gaussian(o, layer), space.Width(o), space.Height(o), k.X * scale, k.Y * scale, angle,
                    k.Size * scale * 0.5f, descriptors.AsSpan(i * DescriptorLength, DescriptorLength), scratch);
            }
        }
        int threads = Math.Min(Threads, batches);
        if (threads <= 1)
        {
            var scratch = new OrientationScratch();
            for (int b = 0; b < batches; b++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Describe(b, scratch);
            }
            return;
        }
        Parallel.For(0, batches, new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken },
            () => new OrientationScratch(), (b, _, scratch) =>
            {
                Describe(b, scratch);
                return scratch;
            }, _ => { });
    }
}
