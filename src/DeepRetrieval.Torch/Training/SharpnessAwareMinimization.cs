using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Training;

/// <summary>
/// Sharpness-aware minimisation (Foret, Kleiner, Mobahi and Neyshabur, "Sharpness-Aware Minimization for Efficiently Improving
/// Generalization", ICLR 2021), as the reference implementation (davda54/sam): after a first backward pass,
/// <see cref="AscendStep"/> moves every parameter with a gradient to w + e(w), <c>e = ρ·g / ‖g‖</c> (adaptive ASAM, Kwon et al.
/// 2021: <c>e = ρ·w²·g / ‖|w|·g‖</c>); the caller then recomputes the loss and gradients there, and
/// <see cref="RestoreWeights"/> moves the parameters back to w so that the base optimiser steps from w with the sharpness-aware
/// gradient. The trainer does this when <c>TrainerOptions.SamRho</c> is positive.
/// </summary>
public sealed class SharpnessAwareMinimization : IDisposable
{
    private readonly Parameter[] _parameters;
    private readonly Tensor?[] _perturbations;

    /// <summary>Creates SAM over parameters.</summary>
    /// <param name="parameters">The parameters the optimiser updates.</param>
    /// <param name="rho">ρ, the radius of the neighbourhood (0.05 in the paper; ASAM uses larger values such as 2).</param>
    /// <param name="adaptive">Use the adaptive (ASAM) perturbation.</param>
    /// <exception cref="ArgumentOutOfRangeException">ρ is not positive and finite.</exception>
    public SharpnessAwareMinimization(IEnumerable<Parameter> parameters, double rho = 0.05, bool adaptive = false)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(rho > 0) || double.IsInfinity(rho)) throw new ArgumentOutOfRangeException(nameof(rho), rho, "ρ must be positive and finite.");
        _parameters = parameters.ToArray();
        _perturbations = new Tensor?[_parameters.Length];
        Rho = rho;
        Adaptive = adaptive;
    }

    /// <summary>ρ, the radius of the neighbourhood.</summary>
    public double Rho { get; }

    /// <summary>Whether the perturbation is the adaptive (ASAM) one.</summary>
    public bool Adaptive { get; }

    /// <summary>Whether the parameters currently sit at w + e(w).</summary>
    public bool IsPerturbed { get; private set; }

    /// <summary>Moves the parameters to w + e(w) using their current gradients.</summary>
    /// <exception cref="InvalidOperationException">The parameters are already perturbed.</exception>
    public void AscendStep()
    {
        if (IsPerturbed) throw new InvalidOperationException("The parameters are already perturbed; call RestoreWeights first.");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var norms = new List<Tensor>();
        foreach (var p in _parameters)
        {
            if (p.grad is null) continue;
            norms.Add((Adaptive ? p.abs() * p.grad : p.grad).norm());
        }
        if (norms.Count == 0) return;
        Tensor scale = Rho / (stack(norms).norm() + 1e-12);
        for (int i = 0; i < _parameters.Length; i++)
        {
            var p = _parameters[i];
            if (p.grad is null) continue;
            Tensor e = (Adaptive ? p.pow(2) * p.grad : p.grad) * scale;
            p.add_(e);
            _perturbations[i] = e.DetachFromDisposeScope();
        }
        IsPerturbed = true;
    }

    /// <summary>Moves the parameters back to w (gradients are kept); does nothing when they are not perturbed.</summary>
    public void RestoreWeights()
    {
        using var noGrad = no_grad();
        for (int i = 0; i < _parameters.Length; i++)
        {
            if (_perturbations[i] is not { } e) continue;
            _parameters[i].sub_(e);
            e.Dispose();
            _perturbations[i] = null;
        }
        IsPerturbed = false;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var e in _perturbations) e?.Dispose();
        Array.Clear(_perturbations);
    }
}
