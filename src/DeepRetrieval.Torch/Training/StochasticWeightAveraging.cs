using DeepRetrieval.Torch.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Training;

/// <summary>
/// Stochastic weight averaging (Izmailov et al. 2018, "Averaging Weights Leads to Wider Optima and Better Generalization"), as
/// <c>torch.optim.swa_utils.AveragedModel</c> with the equal-weight running mean: <see cref="Update"/> folds the model's current
/// parameters into the average, <c>avg ← avg + (w − avg) / (n + 1)</c>; <see cref="CopyTo"/> writes the average into the model;
/// <see cref="UpdateBatchNorm"/> then recomputes batch-norm statistics for the averaged weights (as <c>update_bn</c>), because
/// running statistics are not averages of each other. The averages live outside any dispose scope until <see cref="Dispose"/>.
/// </summary>
public sealed class StochasticWeightAveraging : IDisposable
{
    private readonly Parameter[] _parameters;
    private readonly Tensor[] _averages;

    /// <summary>Starts an empty average of a model's parameters.</summary>
    /// <param name="model">The model whose parameters are averaged.</param>
    public StochasticWeightAveraging(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _parameters = model.parameters().ToArray();
        using var noGrad = no_grad();
        _averages = _parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
    }

    /// <summary>How many snapshots the average holds.</summary>
    public int AveragedCount { get; private set; }

    /// <summary>Adds the model's current parameters to the average.</summary>
    public void Update()
    {
        using var noGrad = no_grad();
        for (int i = 0; i < _parameters.Length; i++)
        {
            if (AveragedCount == 0) _averages[i].copy_(_parameters[i]);
            else _averages[i].add_((_parameters[i] - _averages[i]) / (AveragedCount + 1.0));
        }
        AveragedCount++;
    }

    /// <summary>Writes the averaged parameters into the model.</summary>
    /// <exception cref="InvalidOperationException">Nothing has been averaged yet.</exception>
    public void CopyTo()
    {
        if (AveragedCount == 0) throw new InvalidOperationException("No weights have been averaged yet; call Update first.");
        using var noGrad = no_grad();
        for (int i = 0; i < _parameters.Length; i++) _parameters[i].copy_(_averages[i]);
    }

    /// <summary>A copy of the averaged parameters, in the order of <c>model.parameters()</c>.</summary>
    public Tensor[] Averages() => _averages.Select(a => a.clone()).ToArray();

    /// <summary>
    /// Recomputes every batch-norm layer's running statistics as the plain average over <paramref name="batches"/> (momentum
    /// None, statistics reset first), in training mode without gradients, then restores the layers' momenta and the model's mode.
    /// Does nothing when the model has no batch norm.
    /// </summary>
    /// <param name="model">The model, already holding the averaged weights.</param>
    /// <param name="batches">Input batches (images only), e.g. the training set in order without augmentation.</param>
    public static void UpdateBatchNorm(nn.Module<Tensor, Tensor> model, IEnumerable<Tensor> batches)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batches);
        UpdateBatchNormCore(model, batches, batch => batch, _ => { });
    }

    /// <summary>
    /// <see cref="UpdateBatchNorm(nn.Module{Tensor, Tensor}, IEnumerable{Tensor})"/> over a source's batches, moved to the
    /// model's device; each batch's tensor is freed once used, so a streamed source is never held whole.
    /// </summary>
    internal static void UpdateBatchNormFromSource(nn.Module<Tensor, Tensor> model, IEnumerable<ImageBatch> batches, Device device) =>
        UpdateBatchNormCore(model, batches, batch => batch.Images.to(device), batch => batch.Images.Dispose());

    private static void UpdateBatchNormCore<T>(nn.Module<Tensor, Tensor> model, IEnumerable<T> batches, Func<T, Tensor> input, Action<T> release)
    {
        var norms = model.modules().Prepend(model).Distinct().OfType<NormBase>().Where(n => n is BatchNorm1d or BatchNorm2d or BatchNorm3d && n.track_running_stats).ToArray();
        if (norms.Length == 0) return;
        bool wasTraining = model.training;
        var momenta = norms.Select(n => n.momentum).ToArray();
        var modes = norms.Select(n => n.training).ToArray();
        foreach (var n in norms)
        {
            n.reset_running_stats();
            n.momentum = null;
        }
        model.train();
        // A frozen backbone may put its batch norms back into evaluation mode; update_bn trains them all.
        foreach (var n in norms) n.train();
        using (no_grad())
        {
            foreach (T batch in batches)
            {
                using (var scope = NewDisposeScope())
                    model.forward(input(batch));
                release(batch);
            }
        }
        for (int i = 0; i < norms.Length; i++) norms[i].momentum = momenta[i];
        model.train(wasTraining);
        for (int i = 0; i < norms.Length; i++) norms[i].train(modes[i] && wasTraining);
    }

    internal void Save(BinaryWriter writer)
    {
        writer.Write(AveragedCount);
        writer.Write(_averages.Length);
        foreach (var a in _averages) a.Save(writer);
    }

    internal void Load(BinaryReader reader, string path)
    {
        int count = reader.ReadInt32();
        int tensors = reader.ReadInt32();
        if (count < 0 || tensors != _averages.Length)
            throw new InvalidDataException($"{path}: the checkpoint's weight average holds {tensors} tensors; the model has {_averages.Length} parameters.");
        using var noGrad = no_grad();
        foreach (var a in _averages) a.Load(reader);
        AveragedCount = count;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var a in _averages) a.Dispose();
    }
}
