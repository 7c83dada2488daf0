using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Pooling;

/// <summary>
/// Compact bilinear pooling with the Tensor Sketch projection (Gao, Beijbom, Zhang &amp; Darrell, "Compact bilinear pooling",
/// CVPR 2016; Pham &amp; Pagh 2013). Each stream is count-sketched to D buckets with seeded random hashes h: channel → [0, D)
/// and signs s: channel → ±1, <c>C(a)_d = Σ_{i: h(i)=d} s(i)·a_i</c>; the sketch of the outer product a ⊗ b is the circular
/// convolution of the two count sketches, computed by FFT: <c>TS(a, b) = IFFT(FFT(C₁(a)) ∘ FFT(C₂(b)))</c>.
/// Its key property: <c>E⟨TS(a, a'), TS(b, b')⟩ = ⟨a, b⟩⟨a', b'⟩</c> over the random hashes, so D ≪ C1·C2 numbers stand in
/// for the full <see cref="BilinearPooling"/> descriptor. The layer sketches every location, averages over locations, then (by
/// default) applies the signed square root and L2 normalisation as <see cref="BilinearPooling"/> does.
/// The hashes depend only on the seed (SplitMix64), so a saved model reloads with the same projection.
/// </summary>
public sealed class CompactBilinearPooling : nn.Module<Tensor, Tensor>
{
    // Managed arrays: tensors built in the constructor would die with whatever dispose scope was open then.
    private readonly long[] _firstHashes, _secondHashes;
    private readonly double[] _firstSigns, _secondSigns;

    /// <summary>Creates the layer.</summary>
    /// <param name="firstChannels">C1, channels of the first (or only) stream.</param>
    /// <param name="secondChannels">C2, channels of the second stream; equal to C1 when one map is pooled with itself.</param>
    /// <param name="outputDimension">D, the sketch length (Gao et al. use 8192 for 512 channels).</param>
    /// <param name="seed">Seed of the hashes and signs.</param>
    /// <param name="normalize">Apply the signed square root and L2 normalisation after pooling.</param>
    /// <param name="epsilon">Added under the signed square root.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive or epsilon is negative.</exception>
    public CompactBilinearPooling(int firstChannels, int secondChannels, int outputDimension, int seed = 0, bool normalize = true, double epsilon = 1e-10)
        : base(nameof(CompactBilinearPooling))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(firstChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(secondChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputDimension);
        if (!(epsilon >= 0) || double.IsInfinity(epsilon))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Epsilon must be finite and non-negative.");
        OutputDimension = outputDimension;
        Seed = seed;
        Normalize = normalize;
        Epsilon = epsilon;
        var random = new SplitMix64((ulong)(uint)seed);
        (_firstHashes, _firstSigns) = DrawHashes(ref random, firstChannels, outputDimension);
        (_secondHashes, _secondSigns) = DrawHashes(ref random, secondChannels, outputDimension);
    }

    /// <summary>D, the output length.</summary>
    public int OutputDimension { get; }

    /// <summary>The seed of the hashes and signs.</summary>
    public int Seed { get; }

    /// <summary>Whether pooling is followed by the signed square root and L2 normalisation.</summary>
    public bool Normalize { get; }

    /// <summary>Added under the signed square root.</summary>
    public double Epsilon { get; }

    /// <summary>h₁: the bucket of each channel of the first stream.</summary>
    public IReadOnlyList<long> FirstHashes => _firstHashes;

    /// <summary>s₁: the sign (±1) of each channel of the first stream.</summary>
    public IReadOnlyList<double> FirstSigns => _firstSigns;

    /// <summary>h₂: the bucket of each channel of the second stream.</summary>
    public IReadOnlyList<long> SecondHashes => _secondHashes;

    /// <summary>s₂: the sign (±1) of each channel of the second stream.</summary>
    public IReadOnlyList<double> SecondSigns => _secondSigns;

    /// <summary>Pools the maps with themselves (needs C1 = C2).</summary>
    /// <param name="maps">N × C × H × W floating-point feature maps.</param>
    /// <returns>N × D descriptors.</returns>
    /// <exception cref="ArgumentException">The input is not a floating-point 4-D map or its channels differ from C1 or C2.</exception>
    public override Tensor forward(Tensor maps) => forward(maps, maps);

    /// <summary>Pools two streams' maps together.</summary>
    /// <param name="first">N × C1 × H × W floating-point feature maps.</param>
    /// <param name="second">N × C2 × H × W floating-point feature maps.</param>
    /// <returns>N × D descriptors.</returns>
    /// <exception cref="ArgumentException">A map is not 4-D floating point, channel counts differ from C1/C2, or batch or spatial sizes differ.</exception>
    public Tensor forward(Tensor first, Tensor second)
    {
        FeatureMaps.CheckPair(first, second, nameof(first), nameof(second));
        long n = first.shape[0], locations = first.shape[2] * first.shape[3];
        Tensor a = first.permute(0, 2, 3, 1).reshape(n * locations, first.shape[1]);
        Tensor b = second.permute(0, 2, 3, 1).reshape(n * locations, second.shape[1]);
        Tensor pooled = Sketch(a, b).reshape(n, locations, OutputDimension).mean([1]);
        return Normalize ? nn.functional.normalize(FeatureMaps.SignedSquareRoot(pooled, Epsilon), p: 2, dim: 1) : pooled;
    }

    /// <summary>The Tensor Sketch of the outer product of each row pair: row i of the result sketches <c>a_i ⊗ b_i</c>.</summary>
    /// <param name="first">M × C1 vectors.</param>
    /// <param name="second">M × C2 vectors.</param>
    /// <returns>M × D sketches (no pooling, no normalisation).</returns>
    /// <exception cref="ArgumentException">The inputs are not 2-D floating point with M rows each and C1, C2 columns.</exception>
    public Tensor Sketch(Tensor first, Tensor second)
    {
        CheckRows(first, _firstHashes.Length, nameof(first));
        CheckRows(second, _secondHashes.Length, nameof(second));
        if (first.shape[0] != second.shape[0])
            throw new ArgumentException($"Both inputs need the same number of rows; got {first.shape[0]} and {second.shape[0]}.", nameof(second));
        Tensor countA = CountSketch(first, _firstHashes, _firstSigns);
        Tensor countB = CountSketch(second, _secondHashes, _secondSigns);
        Tensor product = fft.rfft(countA, dim: -1) * fft.rfft(countB, dim: -1);
        return fft.irfft(product, n: OutputDimension, dim: -1);
    }

    private Tensor CountSketch(Tensor rows, long[] hashes, double[] signs)
    {
        Tensor bucket = tensor(hashes, device: rows.device);
        Tensor sign = tensor(signs, rows.dtype, rows.device);
        return zeros([rows.shape[0], OutputDimension], rows.dtype, rows.device).index_add(1, bucket, rows * sign, 1);
    }

    private void CheckRows(Tensor rows, int channels, string name)
    {
        ArgumentNullException.ThrowIfNull(rows, name);
        if (rows.dim() != 2 || !rows.is_floating_point())
            throw new ArgumentException($"Expected a 2-D floating-point tensor (M × {channels}); got {rows.dtype} of shape [{string.Join(", ", rows.shape)}].", name);
        if (rows.shape[1] != channels)
            throw new ArgumentException($"This layer was built for {channels} channels in {name}; got {rows.shape[1]}.", name);
    }

    private static (long[] Hashes, double[] Signs) DrawHashes(ref SplitMix64 random, int channels, int buckets)
    {
        var hashes = new long[channels];
        var signs = new double[channels];
        for (int i = 0; i < channels; i++) hashes[i] = random.NextBelow(buckets);
        for (int i = 0; i < channels; i++) signs[i] = (random.Next() & 1) == 0 ? 1.0 : -1.0;
        return (hashes, signs);
    }
}
