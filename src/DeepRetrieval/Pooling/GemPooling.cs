using System.Buffers;
using System.Globalization;
using System.Numerics.Tensors;

namespace DeepRetrieval.Pooling;

/// <summary>
/// Generalized-mean pooling (Radenović, Tolias &amp; Chum, TPAMI 2018; cirtorch <c>gem</c>):
/// <c>f_c = ( (1 / HW) Σ_{h,w} max(x_{c,h,w}, ε)^{p_c} )^{1/p_c}</c>. p = 1 is <see cref="SpocPooling"/> and large p tends to
/// <see cref="MacPooling"/>; cirtorch's default and its trained networks use p ≈ 3. One p for all channels or one per channel
/// (cirtorch <c>GeMmp</c>). Equals <c>DeepRetrieval.Torch.Pooling.GeM</c> with the same p and ε.
/// </summary>
public sealed class GemPooling : IFeatureMapPooling
{
    /// <summary>The name <see cref="FeatureMapPoolings"/> knows this pooling by.</summary>
    public const string RegistryName = "GeM";

    private readonly float[] _p;

    /// <summary>Creates GeM with one exponent for every channel.</summary>
    /// <param name="p">The exponent; positive and finite (cirtorch's default is 3).</param>
    /// <param name="epsilon">Activations are clamped to at least this before the power, so negative and zero values stay finite.</param>
    /// <exception cref="ArgumentOutOfRangeException">p or epsilon is not positive and finite.</exception>
    public GemPooling(float p = 3f, float epsilon = 1e-6f) : this([p], epsilon, perChannel: false)
    {
    }

    /// <summary>Creates GeM with one exponent per channel; maps must then have exactly as many channels.</summary>
    /// <param name="perChannelP">One positive, finite exponent per channel.</param>
    /// <param name="epsilon">The clamp applied before the power.</param>
    /// <exception cref="ArgumentException">The list is empty or an exponent or epsilon is not positive and finite.</exception>
    public GemPooling(IReadOnlyList<float> perChannelP, float epsilon = 1e-6f) : this(CopyExponents(perChannelP), epsilon, perChannel: true)
    {
    }

    private GemPooling(float[] p, float epsilon, bool perChannel)
    {
        foreach (float value in p)
        {
            if (!(value > 0) || !float.IsFinite(value))
                throw new ArgumentOutOfRangeException(perChannel ? "perChannelP" : nameof(p), value, "The GeM exponent p must be positive and finite.");
        }
        if (!(epsilon > 0) || !float.IsFinite(epsilon))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "The clamp epsilon must be positive and finite.");
        _p = p;
        Epsilon = epsilon;
        Channels = perChannel ? p.Length : null;
    }

    /// <summary>The exponents: one value when shared, one per channel otherwise.</summary>
    public IReadOnlyList<float> P => _p;

    /// <summary>The clamp applied to activations before the power.</summary>
    public float Epsilon { get; }

    /// <summary>Null when one p is shared; otherwise the channel count the maps must have.</summary>
    public int? Channels { get; }

    /// <inheritdoc />
    public string Name => RegistryName;

    /// <inheritdoc />
    public string Description
    {
        get
        {
            string p = Channels is null
                ? Format(_p[0])
                : "[" + string.Join(";", _p.Select(Format)) + "]";
            return $"{RegistryName}(p={p},eps={Format(Epsilon)})";
        }
    }

    /// <inheritdoc />
    public int OutputDimension(int channels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        if (Channels is int expected && channels != expected)
            throw new ArgumentOutOfRangeException(nameof(channels), channels, $"This GeM has one p per channel for {expected} channels.");
        return channels;
    }

    /// <inheritdoc />
    public void Pool(ReadOnlySpan<float> maps, FeatureMapShape shape, Span<float> pooled)
    {
        int count = shape.CheckBatch(maps, pooled, shape.Channels);
        if (Channels is int expected && shape.Channels != expected)
            throw new ArgumentException($"This GeM has one p per channel for {expected} channels; the maps have {shape.Channels}.", nameof(shape));
        int plane = shape.PlaneLength;
        float[] scratch = ArrayPool<float>.Shared.Rent(2 * plane);
        try
        {
            Span<float> powered = scratch.AsSpan(0, plane), squares = scratch.AsSpan(plane, plane);
            for (int item = 0; item < count; item++)
            {
                for (int c = 0; c < shape.Channels; c++)
                {
                    float p = _p.Length == 1 ? _p[0] : _p[c];
                    ReadOnlySpan<float> values = maps.Slice((item * shape.Channels + c) * plane, plane);
                    TensorPrimitives.Max(values, Epsilon, powered);
                    RaiseToPower(powered, p, squares);
                    float mean = TensorPrimitives.Sum<float>(powered) / plane;
                    pooled[item * shape.Channels + c] = p == 1f ? mean : MathF.Pow(mean, 1f / p);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    // Small integer exponents by multiplication: several times faster than Pow for the common p = 3, within an ulp or two of it.
    private static void RaiseToPower(Span<float> values, float p, Span<float> squares)
    {
        switch (p)
        {
            case 1f:
                return;
            case 2f:
                TensorPrimitives.Multiply(values, values, values);
                return;
            case 3f:
                TensorPrimitives.Multiply(values, values, squares);
                TensorPrimitives.Multiply(squares, values, values);
                return;
            default:
                TensorPrimitives.Pow(values, p, values);
                return;
        }
    }

    internal static IFeatureMapPooling Create(PoolingArguments arguments)
    {
        float epsilon = arguments.GetSingle("eps", 1e-6f);
        float[]? list = arguments.GetSingleList("p");
        return list is not null ? new GemPooling(list, epsilon) : new GemPooling(arguments.GetSingle("p", 3f), epsilon);
    }

    private static float[] CopyExponents(IReadOnlyList<float> perChannelP)
    {
        ArgumentNullException.ThrowIfNull(perChannelP);
        if (perChannelP.Count == 0)
            throw new ArgumentException("Per-channel GeM needs at least one exponent.", nameof(perChannelP));
        return [.. perChannelP];
    }

    private static string Format(float value) => value.ToString("R", CultureInfo.InvariantCulture);
}
