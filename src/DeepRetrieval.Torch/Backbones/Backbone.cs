using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// An image network cut before its pooling and classifier: N × C × H × W images in, the final N × C' × H' × W' feature map
/// out, so any pooling layer (<see cref="Pooling.GeM"/>, <see cref="Pooling.RMAC"/>, ...) can follow. A backbone is a sequence
/// of named <see cref="Stages"/> (timm's <c>feature_info</c>): <see cref="ForwardStages"/> returns intermediate maps for layer
/// selection, <see cref="FreezeStages(int)"/> stops gradients through the first stages, and <see cref="FreezeBatchNorm"/> keeps
/// batch-norm statistics fixed while the rest trains. Parameter names follow the reference implementation of each family
/// (torchvision or timm), so their state dicts load without renaming. Build by name with <see cref="BackboneRegistry"/>.
/// </summary>
public abstract class Backbone : nn.Module<Tensor, Tensor>
{
    private readonly List<StageEntry> _stages = [];
    private readonly List<BackboneStage> _stageInfo = [];

    /// <summary>Creates an empty backbone; the subclass registers its modules and then calls <see cref="AddStage"/> in order.</summary>
    /// <param name="name">The module name.</param>
    protected Backbone(string name) : base(name)
    {
    }

    /// <summary>The stages in execution order; the last one's output is <see cref="forward"/>'s result.</summary>
    public IReadOnlyList<BackboneStage> Stages => _stageInfo;

    /// <summary>Channels of the final feature map.</summary>
    public int OutputChannels => _stageInfo[^1].Channels;

    /// <summary>Stride of the final feature map relative to the input.</summary>
    public int OutputStride => _stageInfo[^1].Stride;

    /// <summary>Number of leading stages whose parameters are frozen by <see cref="FreezeStages(int)"/>.</summary>
    public int FrozenStageCount { get; private set; }

    /// <summary>Whether batch-norm layers stay in evaluation mode with frozen affine parameters (see <see cref="FreezeBatchNorm"/>).</summary>
    public bool IsBatchNormFrozen { get; private set; }

    /// <summary>
    /// The channel count the images must have, checked by <see cref="forward"/> and <see cref="ForwardStages"/> before any stage
    /// runs, so a mismatch is named instead of failing inside the first convolution; null (the default) checks nothing.
    /// </summary>
    protected virtual int? ExpectedInputChannels => null;

    /// <summary>
    /// Appends a stage. The modules must already be registered with this backbone (as fields picked up by
    /// <c>RegisterComponents</c> or through <c>register_module</c>), so their parameter names are the family's own; the stage
    /// only records the order in which they run.
    /// </summary>
    /// <param name="stage">Name, output channels and stride of the stage.</param>
    /// <param name="modules">The modules the stage runs, in order.</param>
    /// <exception cref="ArgumentException">No module is given, or the stage name is already used.</exception>
    protected void AddStage(BackboneStage stage, params nn.Module<Tensor, Tensor>[] modules)
    {
        ArgumentNullException.ThrowIfNull(stage);
        if (modules.Length == 0)
            throw new ArgumentException($"Stage '{stage.Name}' needs at least one module.", nameof(modules));
        if (_stageInfo.Any(s => s.Name == stage.Name))
            throw new ArgumentException($"A stage named '{stage.Name}' already exists.", nameof(stage));
        _stages.Add(new StageEntry(modules));
        _stageInfo.Add(stage);
    }

    /// <summary>Runs every stage and returns the final feature map.</summary>
    /// <param name="images">N × C × H × W images, normalised as the backbone's <see cref="BackboneInfo"/> says.</param>
    /// <exception cref="ArgumentException">The input is not a 4-D floating-point tensor, has other than <see cref="ExpectedInputChannels"/> channels, or fails <see cref="CheckInputSize"/>.</exception>
    public override Tensor forward(Tensor images)
    {
        CheckImages(images);
        Tensor x = images;
        for (int i = 0; i < _stages.Count; i++)
            x = RunStage(i, x);
        return x;
    }

    /// <summary>
    /// Runs the network only as far as the last requested stage and returns the requested stages' outputs, in the order asked
    /// (timm's <c>features_only</c> with <c>out_indices</c>): multi-scale descriptors and layer selection for retrieval.
    /// </summary>
    /// <param name="images">N × C × H × W images.</param>
    /// <param name="stageNames">Names from <see cref="Stages"/>.</param>
    /// <returns>One N × C × H × W map per requested name.</returns>
    /// <exception cref="ArgumentException">The input is invalid (see <see cref="forward"/>), no name is given or a name is not a stage of this backbone.</exception>
    public virtual IReadOnlyList<Tensor> ForwardStages(Tensor images, params string[] stageNames)
    {
        CheckImages(images);
        ArgumentNullException.ThrowIfNull(stageNames);
        if (stageNames.Length == 0)
            throw new ArgumentException("Ask for at least one stage.", nameof(stageNames));
        int[] wanted = stageNames.Select(StageIndex).ToArray();
        var outputs = new Tensor[_stages.Count];
        Tensor x = images;
        for (int i = 0; i <= wanted.Max(); i++)
        {
            x = RunStage(i, x);
            outputs[i] = x;
        }
        return wanted.Select(i => outputs[i]).ToArray();
    }

    /// <summary>The position of a stage in <see cref="Stages"/>.</summary>
    /// <param name="stageName">A stage name.</param>
    /// <exception cref="ArgumentException">The name is not a stage of this backbone; the message lists the valid names.</exception>
    public int StageIndex(string stageName)
    {
        int index = _stageInfo.FindIndex(s => s.Name == stageName);
        if (index < 0)
            throw new ArgumentException(
                $"'{stageName}' is not a stage of {GetName()}; its stages are {string.Join(", ", _stageInfo.Select(s => s.Name))}.", nameof(stageName));
        return index;
    }

    /// <summary>
    /// Freezes the parameters of the first <paramref name="count"/> stages (<c>requires_grad = false</c>) and unfreezes the
    /// rest; 0 unfreezes everything and <see cref="Stages"/>.Count freezes the whole backbone (the first stage of the
    /// two-stage fine-tuning recipe). Frozen parameters keep no gradient, so optimisers skip them.
    /// </summary>
    /// <param name="count">How many leading stages to freeze.</param>
    /// <exception cref="ArgumentOutOfRangeException">count is negative or larger than the number of stages.</exception>
    public void FreezeStages(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _stages.Count);
        for (int i = 0; i < _stages.Count; i++)
        {
            foreach (var module in _stages[i].Modules)
            {
                foreach (var parameter in module.parameters())
                {
                    parameter.requires_grad = i >= count;
                    if (i < count)
                        parameter.grad = null;
                }
            }
        }
        FrozenStageCount = count;
        if (IsBatchNormFrozen)
            FreezeBatchNorm(true);
    }

    /// <summary>Freezes the stages up to and including the named one.</summary>
    /// <param name="lastFrozenStage">The last stage to freeze.</param>
    /// <exception cref="ArgumentException">The name is not a stage of this backbone.</exception>
    public void FreezeStages(string lastFrozenStage) => FreezeStages(StageIndex(lastFrozenStage) + 1);

    /// <summary>Unfreezes every parameter (the second stage of the two-stage recipe).</summary>
    public void Unfreeze() => FreezeStages(0);

    /// <summary>
    /// Freezes (or releases) batch-norm statistics: frozen batch-norm layers stay in evaluation mode when the backbone is put
    /// in training mode, so running means and variances keep their pretrained values, and their affine weights stop
    /// learning (detectron2's <c>FrozenBatchNorm2d</c>). Fine-tuning with small or class-pure batches needs this, because
    /// batch statistics of such batches are poor estimates.
    /// </summary>
    /// <param name="freeze">True to freeze, false to let batch norm train again (parameters of frozen stages stay frozen).</param>
    public void FreezeBatchNorm(bool freeze = true)
    {
        IsBatchNormFrozen = freeze;
        for (int i = 0; i < _stages.Count; i++)
        {
            foreach (var norm in _stages[i].Modules.SelectMany(BatchNorms))
            {
                foreach (var parameter in norm.parameters())
                    parameter.requires_grad = !freeze && i >= FrozenStageCount;
                if (freeze)
                    norm.eval();
                else if (training)
                    norm.train();
            }
        }
    }

    /// <summary>Switches training mode; batch-norm layers stay in evaluation mode while <see cref="IsBatchNormFrozen"/>.</summary>
    /// <param name="on">True for training mode.</param>
    public override void train(bool on = true)
    {
        base.train(on);
        if (on && IsBatchNormFrozen)
        {
            foreach (var norm in _stages.SelectMany(s => s.Modules).SelectMany(BatchNorms))
                norm.eval();
        }
    }

    /// <summary>
    /// Family-specific checks of an N × C × H × W floating-point batch with the expected channels (for example a minimum
    /// size), run by <see cref="forward"/> and <see cref="ForwardStages"/> before any stage; the default accepts every size.
    /// </summary>
    /// <param name="images">The images.</param>
    /// <exception cref="ArgumentException">The images do not fit the network.</exception>
    protected virtual void CheckInputSize(Tensor images)
    {
    }

    /// <summary>Runs stage <paramref name="index"/> on <paramref name="input"/>.</summary>
    protected Tensor RunStage(int index, Tensor input)
    {
        Tensor x = input;
        foreach (var module in _stages[index].Modules)
            x = module.forward(x);
        return x;
    }

    // TorchSharp's modules() lists descendants only, not the module itself, so a batch norm given directly to AddStage
    // (a stem's bn1, DenseNet's norm0) is added explicitly.
    private static IEnumerable<nn.Module> BatchNorms(nn.Module module) =>
        module.modules().Prepend(module).Where(m => m is BatchNorm1d or BatchNorm2d or BatchNorm3d);

    private void CheckImages(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 4 || !images.is_floating_point())
            throw new ArgumentException($"A backbone takes a floating-point N × C × H × W image batch; got {images.dtype} [{string.Join(", ", images.shape)}].", nameof(images));
        if (ExpectedInputChannels is int channels && images.shape[1] != channels)
            throw new ArgumentException(
                $"{GetName()} was built for {channels}-channel images but got {images.shape[1]} channels ([{string.Join(", ", images.shape)}]); set BackboneOptions.InputChannels to build it for other channel counts.",
                nameof(images));
        CheckInputSize(images);
    }

    // A plain class, not a module, so RegisterComponents does not register the stage modules a second time under other names.
    private sealed record StageEntry(IReadOnlyList<nn.Module<Tensor, Tensor>> Modules);
}
