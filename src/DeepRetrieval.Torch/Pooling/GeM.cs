using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Pooling;

/// <summary>
/// Generalized-mean pooling (Radenović, Tolias &amp; Chum, "Fine-tuning CNN image retrieval with no human annotation",
/// TPAMI 2018; cirtorch <c>GeM</c>): <c>f_c = ( (1 / HW) Σ_{h,w} max(x_{c,h,w}, ε)^{p_c} )^{1/p_c}</c>.
/// p = 1 is average pooling (<see cref="SPoC"/>) and p → ∞ tends to max pooling (<see cref="MAC"/>); the paper learns p
/// (about 3 after training). p is one shared scalar (cirtorch <c>GeM</c>) or one value per channel (cirtorch <c>GeMmp</c>),
/// learnable (a parameter named <c>p</c>) or fixed (a buffer named <c>p</c>, so it still follows <c>.to(device/dtype)</c>).
/// N × C × H × W in, N × C out.
/// </summary>
public sealed class GeM : nn.Module<Tensor, Tensor>
{
    /// <summary>
    /// The largest exponent accepted. x^p of an activation above 1 overflows float32 beyond p of a few hundred, and GeM is
    /// already indistinguishable from max pooling (<see cref="MAC"/>) long before: cirtorch's learned values are near 3.
    /// </summary>
    public const double MaxExponent = 1000;

    /// <summary>Creates the layer.</summary>
    /// <param name="p">Initial (or fixed) exponent; cirtorch's default is 3.</param>
    /// <param name="learnable">Train p with the network (a parameter) or keep it fixed (a buffer).</param>
    /// <param name="channels">Null for one p shared by all channels; a channel count for one p per channel.</param>
    /// <param name="epsilon">Activations are clamped to at least this before the power, so x^p and its gradient stay finite.</param>
    /// <exception cref="ArgumentOutOfRangeException">
    /// p is not in (0, <see cref="MaxExponent"/>] (or rounds to 0 in single precision), epsilon is not positive and finite in
    /// single precision, or channels is not positive.
    /// </exception>
    public GeM(double p = 3.0, bool learnable = true, int? channels = null, double epsilon = 1e-6) : base(nameof(GeM))
    {
        // Both are stored and used as float32 tensors: a double that overflows or underflows float32 is not a usable value.
        if (!(p > 0) || !(p <= MaxExponent) || !((float)p > 0))
            throw new ArgumentOutOfRangeException(nameof(p), p, $"The GeM exponent p must be positive and at most {MaxExponent}.");
        if (!((float)epsilon > 0) || !float.IsFinite((float)epsilon))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "The clamp epsilon must be positive and finite in single precision.");
        if (channels is <= 0)
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "The channel count must be positive.");
        Epsilon = epsilon;
        Channels = channels;
        // Detached so a layer built inside a dispose scope outlives the scope, as modules are expected to.
        Tensor initial = full(channels ?? 1, p, ScalarType.Float32).DetachFromDisposeScope();
        if (learnable)
        {
            register_parameter("p", new Parameter(initial, requires_grad: true));
        }
        else
        {
            register_buffer("p", initial);
        }
    }

    /// <summary>The exponent: a 1-element tensor when shared, C elements when per channel.</summary>
    public Tensor P => get_parameter("p") ?? get_buffer("p")!;

    /// <summary>The clamp applied to activations before the power.</summary>
    public double Epsilon { get; }

    /// <summary>Null when one p is shared; otherwise the channel count the layer expects.</summary>
    public int? Channels { get; }

    /// <summary>Pools each channel to its generalized mean.</summary>
    /// <param name="maps">N × C × H × W floating-point feature maps.</param>
    /// <returns>N × C descriptors (not normalised).</returns>
    /// <exception cref="ArgumentException">The input is not a floating-point 4-D map, or its channel count differs from a per-channel p.</exception>
    public override Tensor forward(Tensor maps)
    {
        FeatureMaps.Check(maps, nameof(maps));
        if (Channels is int channels && maps.shape[1] != channels)
            throw new ArgumentException($"This GeM has one p per channel for {channels} channels; the maps have {maps.shape[1]}.", nameof(maps));
        return Pool(maps, P, Epsilon);
    }

    /// <summary>
    /// The functional form (cirtorch <c>gem(x, p, eps)</c>): differentiable in both the maps and p.
    /// </summary>
    /// <param name="maps">N × C × H × W floating-point feature maps.</param>
    /// <param name="p">A 1-element exponent or one exponent per channel (C elements).</param>
    /// <param name="epsilon">The clamp applied before the power.</param>
    /// <returns>N × C descriptors.</returns>
    /// <exception cref="ArgumentException">The maps are not 4-D floating point, or p has neither 1 nor C elements.</exception>
    public static Tensor Pool(Tensor maps, Tensor p, double epsilon = 1e-6)
    {
        FeatureMaps.Check(maps, nameof(maps));
        ArgumentNullException.ThrowIfNull(p);
        if (p.numel() != 1 && p.numel() != maps.shape[1])
            throw new ArgumentException($"p must have 1 element or one per channel ({maps.shape[1]}); it has {p.numel()}.", nameof(p));
        Tensor exponent = p.to(maps.dtype).reshape(1, -1);
        Tensor powered = maps.clamp_min(epsilon).pow(exponent.unsqueeze(-1).unsqueeze(-1));
        return powered.mean([2, 3]).pow(exponent.reciprocal());
    }
}
