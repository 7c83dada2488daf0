using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Heads;

/// <summary>
/// Learned PCA whitening (Jégou &amp; Chum, "Negative evidences and co-occurrences in image retrieval", ECCV 2012; the
/// post-processing of Radenović et al. and cirtorch's <c>pcawhitenlearn</c>). <see cref="Fit"/> learns, from descriptors X,
/// the mean μ and the projection <c>P = (Λ + εI)^{−1/2} Eᵀ</c>, where <c>Σ = (X − μ)ᵀ(X − μ) / (n − 1) = E Λ Eᵀ</c> (eigenvalues in
/// decreasing order, the first d kept). <see cref="Whiten"/> computes <c>P (x − μ)</c>, whose covariance on the fitting set is
/// about the identity; <see cref="forward"/> also L2-normalises. μ and P are buffers <c>mean</c> (D) and <c>projection</c>
/// (d × D), so they are saved with the state dict and follow <c>.to(device/dtype)</c>; they are not trained by backprop.
/// </summary>
public sealed class PcaWhitening : nn.Module<Tensor, Tensor>
{
    private bool _fitted;

    /// <summary>Creates an unfitted whitening.</summary>
    /// <param name="inputDimension">D, the descriptor width.</param>
    /// <param name="outputDimension">d ≤ D, the number of principal directions kept; null keeps all D.</param>
    /// <param name="epsilon">Added to every eigenvalue before the inverse square root, so near-zero variance directions are not blown up.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is not positive, d exceeds D, or epsilon is negative.</exception>
    public PcaWhitening(int inputDimension, int? outputDimension = null, double epsilon = 1e-6) : base(nameof(PcaWhitening))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputDimension);
        int kept = outputDimension ?? inputDimension;
        if (kept <= 0 || kept > inputDimension)
            throw new ArgumentOutOfRangeException(nameof(outputDimension), outputDimension, $"The output dimension must lie in 1..{inputDimension}.");
        if (!(epsilon >= 0) || double.IsInfinity(epsilon))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Epsilon must be finite and non-negative.");
        InputDimension = inputDimension;
        OutputDimension = kept;
        Epsilon = epsilon;
        // Detached so a layer built inside a dispose scope outlives the scope.
        register_buffer("mean", zeros(inputDimension, ScalarType.Float32).DetachFromDisposeScope());
        register_buffer("projection", zeros([kept, inputDimension], ScalarType.Float32).DetachFromDisposeScope());
    }

    /// <summary>D, the descriptor width.</summary>
    public int InputDimension { get; }

    /// <summary>d, the whitened width.</summary>
    public int OutputDimension { get; }

    /// <summary>Added to every eigenvalue.</summary>
    public double Epsilon { get; }

    /// <summary>μ, the mean of the fitting descriptors (D).</summary>
    public Tensor Mean => get_buffer("mean")!;

    /// <summary>P, the whitening projection (d × D).</summary>
    public Tensor Projection => get_buffer("projection")!;

    /// <summary>True once <see cref="Fit"/> has run or a fitted state dict was loaded.</summary>
    public bool IsFitted
    {
        get
        {
            // A loaded state dict fills the buffers without calling Fit; a non-zero projection is the sign of a fit.
            if (!_fitted)
            {
                using var scope = NewDisposeScope();
                _fitted = Projection.detach().ne(0).any().item<bool>();
            }
            return _fitted;
        }
    }

    /// <summary>Learns μ and P from descriptors (computed in float64, stored in the buffers' dtype).</summary>
    /// <param name="descriptors">n × D floating-point descriptors, n ≥ 2, finite.</param>
    /// <exception cref="ArgumentException">The descriptors are not 2-D floating point of width D, fewer than 2, or not finite.</exception>
    public void Fit(Tensor descriptors)
    {
        HeadInput.Check(descriptors, nameof(descriptors), InputDimension);
        if (descriptors.shape[0] < 2)
            throw new ArgumentException($"Fitting a whitening needs at least 2 descriptors; got {descriptors.shape[0]}.", nameof(descriptors));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor x = descriptors.detach().to(ScalarType.Float64, CPU);
        if (!x.isfinite().all().item<bool>())
            throw new ArgumentException("Descriptors contain NaN or infinite values.", nameof(descriptors));
        Tensor mean = x.mean([0]);
        Tensor centred = x - mean;
        Tensor covariance = centred.t().matmul(centred) / (x.shape[0] - 1);
        var (eigenvalues, eigenvectors) = linalg.eigh(covariance);
        // eigh returns ascending eigenvalues: the largest d are the last d, taken in decreasing order.
        Tensor order = arange(InputDimension - 1, InputDimension - 1 - OutputDimension, -1, ScalarType.Int64);
        Tensor top = eigenvalues.index_select(0, order).clamp_min(0);
        Tensor directions = eigenvectors.index_select(1, order);
        Tensor projection = (top + Epsilon).rsqrt().unsqueeze(1) * directions.t();
        Mean.copy_(mean);
        Projection.copy_(projection);
        _fitted = true;
    }

    /// <summary>The whitened descriptors <c>P (x − μ)</c>, not normalised.</summary>
    /// <param name="descriptors">N × D floating-point descriptors.</param>
    /// <returns>N × d whitened descriptors.</returns>
    /// <exception cref="InvalidOperationException">The whitening has not been fitted.</exception>
    /// <exception cref="ArgumentException">The input is not 2-D floating point of width D.</exception>
    public Tensor Whiten(Tensor descriptors)
    {
        HeadInput.Check(descriptors, nameof(descriptors), InputDimension);
        if (!IsFitted)
            throw new InvalidOperationException("The whitening has not been fitted: call Fit(descriptors) or load a fitted state dict first.");
        return (descriptors - Mean.to(descriptors.dtype)).matmul(Projection.to(descriptors.dtype).t());
    }

    /// <summary>Whitens and L2-normalises each row.</summary>
    /// <param name="descriptors">N × D floating-point descriptors.</param>
    /// <returns>N × d unit rows.</returns>
    /// <exception cref="InvalidOperationException">The whitening has not been fitted.</exception>
    /// <exception cref="ArgumentException">The input is not 2-D floating point of width D.</exception>
    public override Tensor forward(Tensor descriptors) => nn.functional.normalize(Whiten(descriptors), p: 2, dim: 1);
}
