using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// The monotonic extension of cos(mθ) used by L-Softmax and SphereFace, <c>ψ(θ) = (−1)^k cos(mθ) − 2k</c> for
/// θ ∈ [kπ/m, (k+1)π/m], evaluated from cos θ with the multiple-angle polynomial
/// <c>cos(mθ) = Σ_n (−1)^n C(m, 2n) cos^{m−2n}θ (1 − cos²θ)^n</c> so that no acos is differentiated (finite at cos θ = ±1).
/// </summary>
internal sealed class MultipleAngle
{
    // Managed coefficients (−1)^n C(m, 2n); tensors built here would die with the caller's dispose scope.
    private readonly double[] _coefficients;
    private readonly int _margin;

    /// <summary>Creates ψ for the integer multiplier <paramref name="margin"/> ≥ 1.</summary>
    public MultipleAngle(int margin)
    {
        _margin = margin;
        _coefficients = new double[margin / 2 + 1];
        for (int n = 0; n < _coefficients.Length; n++) _coefficients[n] = (n % 2 == 0 ? 1 : -1) * Binomial(margin, 2 * n);
    }

    /// <summary>ψ(θ) from cos θ; k is not differentiated.</summary>
    public Tensor Psi(Tensor cosine)
    {
        Tensor sineSquared = 1 - cosine * cosine;
        Tensor multipleAngle = zeros_like(cosine);
        for (int n = 0; n < _coefficients.Length; n++)
            multipleAngle = multipleAngle + _coefficients[n] * cosine.pow(_margin - 2 * n) * sineSquared.pow(n);
        Tensor k;
        using (no_grad())
            k = (cosine.clamp(-1, 1).acos() / (Math.PI / _margin)).floor();
        Tensor sign = 1 - 2 * k.remainder(2);
        return sign * multipleAngle - 2 * k;
    }

    private static double Binomial(int n, int k)
    {
        double result = 1;
        for (int i = 1; i <= k; i++) result = result * (n - k + i) / i;
        return result;
    }
}
