using System.Diagnostics;
using DeepRetrieval.Torch.Augmentation;
using DeepRetrieval.Torch.Data;
using DeepRetrieval.Torch.Losses;
using Microsoft.Extensions.Logging;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Training;

/// <summary>
/// Trains an embedding model with a metric loss on any <see cref="ITrainingImageSource"/>: images in memory
/// (<see cref="TensorImageSet"/>, a batch is one <c>index_select</c>) or files streamed from disk (<see cref="ImageFileSet"/>,
/// decoded and augmented per sample on worker threads a few batches ahead). Each step takes the next batch of the epoch's
/// sampler or seeded shuffle, applies the <see cref="IBatchTransform"/> and the <see cref="IBatchMixer"/>, computes the loss,
/// back-propagates, guards against NaN or infinite loss and gradients (the step is skipped, gradients are zeroed and the skip
/// is logged and counted), optionally does SAM's second pass, clips the gradient norm and steps the optimiser. For an
/// <see cref="IEmbeddingModel"/> with a BNNeck head, metric losses receive the feature before the neck and classification
/// losses the feature after it (also inside a <see cref="WeightedLossSum"/>); the miner's tuples feed the metric losses and a
/// <see cref="CrossBatchMemory"/> (see <see cref="TrainerOptions.Miner"/>). The loss's own parameters form a second parameter
/// group with their own learning rate. After each epoch the validation set is scored by leave-one-out retrieval through a
/// <c>FlatIndex</c> (<see cref="EmbeddingValidation"/>) with the model's metric, early stopping and reduce-on-plateau see its
/// MAP@R, the best weights are kept, SWA folds in the weights, and a checkpoint may be written; <see cref="Resume"/>
/// continues a run bit for bit. One loss value per step is the only host synchronisation of the loop.
/// </summary>
public sealed class EmbeddingTrainer : IDisposable
{
    private const string CheckpointMagic = "DeepRetrieval.TrainingCheckpoint";
    private const int CheckpointVersion = 1;

    private readonly nn.Module<Tensor, Tensor> _model;
    private readonly nn.Module<Tensor, Tensor, Tensor> _loss;
    private readonly TrainerOptions _options;
    private readonly optim.Optimizer _optimizer;
    private readonly double[] _baseRates;
    private readonly Parameter[] _parameters;
    private readonly Generator _generator;
    private readonly SharpnessAwareMinimization? _sam;
    private readonly StochasticWeightAveraging? _swa;
    private readonly LearningRateSchedule _schedule;
    private readonly LossRouting _routing;
    private readonly Metric _validationMetric;
    private TrainingHistory _history = new();
    private Dictionary<string, Tensor>? _bestWeights;
    private double _bestMetric = double.NegativeInfinity;
    private int _badEpochs;

    /// <summary>Creates the trainer and its optimiser.</summary>
    /// <param name="model">
    /// Images in, N × d embeddings out: a <see cref="Models.RetrievalModel"/> (or another <see cref="IEmbeddingModel"/>), or any
    /// module such as a backbone, a pooling layer and a head in a Sequential.
    /// </param>
    /// <param name="loss">The loss: any <see cref="MetricLoss"/>, a <see cref="WeightedLossSum"/> of them, a <see cref="CrossBatchMemory"/>, or another module (embeddings, labels) → scalar.</param>
    /// <param name="options">The configuration.</param>
    /// <exception cref="ArgumentException">
    /// An option is out of range; the validation metric contradicts the model's; a cross-batch memory is combined with mixing or
    /// SAM (both call the loss twice per step, which would enqueue the batch twice); or the memory and the options name two miners.
    /// </exception>
    public EmbeddingTrainer(nn.Module<Tensor, Tensor> model, nn.Module<Tensor, Tensor, Tensor> loss, TrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (model is IEmbeddingModel embeddingModel && options.ValidationMetric is { } metric && metric != embeddingModel.Metric)
            throw new ArgumentException($"The model compares embeddings with {embeddingModel.Metric} but ValidationMetric is {metric}; leave ValidationMetric null for models that state their metric.", nameof(options));
        _validationMetric = (model as IEmbeddingModel)?.Metric ?? options.ValidationMetric ?? Metric.Cosine;
        _routing = new LossRouting(loss, options.Miner);
        if (_routing.HasMemory && (options.Mixer is not null || options.SamRho > 0))
            throw new ArgumentException("A cross-batch memory cannot be trained with mixing or SAM: both compute the loss twice per step, which would enqueue the batch twice.", nameof(loss));
        _model = model;
        _loss = loss;
        _options = options;
        _schedule = options.Schedule ?? new ConstantSchedule();
        Parameter[] modelParameters = model.parameters().ToArray();
        Parameter[] lossParameters = loss.parameters().ToArray();
        if (modelParameters.Length == 0) throw new ArgumentException("The model has no parameters to train.", nameof(model));
        _parameters = [.. modelParameters, .. lossParameters];
        double lossRate = options.LossLearningRate ?? options.LearningRate;
        _baseRates = lossParameters.Length == 0 ? [options.LearningRate] : [options.LearningRate, lossRate];
        _optimizer = CreateOptimizer(options, modelParameters, lossParameters, lossRate);
        _generator = new Generator((ulong)options.Seed);
        if (options.SamRho > 0) _sam = new SharpnessAwareMinimization(_parameters, options.SamRho, options.SamAdaptive);
        if (options.SwaStartEpoch is not null) _swa = new StochasticWeightAveraging(model);
    }

    /// <summary>The epochs trained so far, including those before a <see cref="Resume"/>.</summary>
    public TrainingHistory History => _history;

    /// <summary>Epochs completed so far.</summary>
    public int CompletedEpochs { get; private set; }

    /// <summary>Optimiser steps taken (or skipped) so far; the schedule's step counter.</summary>
    public long StepCount { get; private set; }

    /// <summary>Steps skipped by the NaN/Inf guard so far.</summary>
    public int SkippedSteps { get; private set; }

    /// <summary>Whether early stopping ended the run.</summary>
    public bool StoppedEarly { get; private set; }

    /// <summary>How validation compares embeddings: the model's <see cref="IEmbeddingModel.Metric"/>, else <see cref="TrainerOptions.ValidationMetric"/>, else cosine.</summary>
    public Metric ValidationMetric => _validationMetric;

    /// <summary>The best validation MAP@R so far (−∞ before the first validation).</summary>
    public double BestMapAtR => _bestMetric;

    /// <summary>The stochastic weight average, when <see cref="TrainerOptions.SwaStartEpoch"/> is set.</summary>
    public StochasticWeightAveraging? WeightAverage => _swa;

    /// <summary>The learning rate of each parameter group (model, then the loss's own parameters when it has any).</summary>
    public IReadOnlyList<double> CurrentLearningRates => _optimizer.ParamGroups.Select(g => g.LearningRate).ToArray();

    /// <summary>The current momentum of each parameter group: β₁ for Adam and AdamW, the momentum for SGD.</summary>
    public IReadOnlyList<double> CurrentMomenta => _optimizer.ParamGroups
        .Select(g => g is optim.IBetas betas ? betas.Betas.Item1 : ((optim.IMomentum)_optimizer).Momentum).ToArray();

    /// <summary>
    /// Trains until <see cref="TrainerOptions.Epochs"/> epochs are complete (or early stopping), then applies the stochastic
    /// weight average with a batch-norm update, or restores the best weights (<see cref="TrainerOptions.RestoreBestWeights"/>).
    /// </summary>
    /// <param name="train">The training images, with labels; per-sample augmentation (of an <see cref="ImageFileSet"/>) is seeded from <see cref="TrainerOptions.Seed"/> and the epoch.</param>
    /// <param name="validation">The validation images (read without augmentation), or null to train without validation (early stopping, plateau and best weights then do nothing).</param>
    /// <param name="cancellationToken">Stops between steps; the weights are left as they are.</param>
    /// <returns>The history.</returns>
    /// <exception cref="ArgumentException">A set has no labels, or a sampler index lies outside the training set.</exception>
    /// <exception cref="IOException">The checkpoint's folder cannot be created or written; raised before the first step.</exception>
    /// <exception cref="UnauthorizedAccessException">The checkpoint's folder may not be written; raised before the first step.</exception>
    public TrainingHistory Fit(ITrainingImageSource train, ITrainingImageSource? validation = null, CancellationToken cancellationToken = default)
    {
        RequireLabels(train, nameof(train));
        if (validation is not null) RequireLabels(validation, nameof(validation));
        if (_options.CheckpointPath is { } checkpoint) PrepareCheckpointFolder(checkpoint);
        while (CompletedEpochs < _options.Epochs && !StoppedEarly)
        {
            cancellationToken.ThrowIfCancellationRequested();
            RunEpoch(train, validation, cancellationToken);
        }
        Finish(train);
        return _history;
    }

    /// <summary>
    /// Writes a checkpoint through an <see cref="AtomicFile"/> (written beside the target, then moved over it, so a crash never
    /// leaves half a checkpoint); the folder is created when missing.
    /// </summary>
    /// <param name="path">The checkpoint file.</param>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public void SaveCheckpoint(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var file = new AtomicFile(path);
        using (var writer = new BinaryWriter(file.Stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(CheckpointMagic);
            writer.Write(CheckpointVersion);
            var state = new CheckpointState(CompletedEpochs, StepCount, SkippedSteps, StoppedEarly, _bestMetric, _badEpochs,
                _schedule.SaveState(), _options.Sampler?.Seed, [.. _history.Epochs]);
            writer.Write(state.ToJson());
            WriteTensorBytes(writer, _generator.get_state());
            WriteTensorBytes(writer, random.get_rng_state());
            _model.save(writer);
            _loss.save(writer);
            ((OptimizerHelper)_optimizer).save_state_dict(writer);
            writer.Write(_swa is not null);
            _swa?.Save(writer);
            writer.Write(_bestWeights?.Count ?? -1);
            if (_bestWeights is not null)
            {
                foreach (var (name, value) in _bestWeights)
                {
                    writer.Write(name);
                    value.Save(writer);
                }
            }
            writer.Write(CheckpointMagic);
        }
        file.Commit();
    }

    /// <summary>
    /// Loads a checkpoint written by <see cref="SaveCheckpoint"/> into this trainer (built with the same model, loss and
    /// options); the next <see cref="Fit"/> continues exactly where the checkpointed run stopped.
    /// </summary>
    /// <param name="path">The checkpoint file.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a checkpoint, is truncated, or does not fit this model, loss or optimiser.</exception>
    public void Resume(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"No checkpoint at {path}.", path);
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new BinaryReader(stream);
            if (reader.ReadString() != CheckpointMagic) throw new InvalidDataException($"{path} is not a training checkpoint.");
            int version = reader.ReadInt32();
            if (version != CheckpointVersion) throw new InvalidDataException($"{path} has checkpoint version {version}; this build reads {CheckpointVersion}.");
            var state = CheckpointState.FromJson(reader.ReadString());
            if (state.SamplerSeed != _options.Sampler?.Seed)
                throw new InvalidDataException($"{path} was written with sampler seed {state.SamplerSeed?.ToString() ?? "none"}, but this trainer's sampler seed is {_options.Sampler?.Seed.ToString() ?? "none"}.");
            using (var scope = NewDisposeScope())
            {
                _generator.set_state(ReadTensorBytes(reader));
                random.set_rng_state(ReadTensorBytes(reader));
            }
            _model.load(reader);
            _loss.load(reader);
            ((OptimizerHelper)_optimizer).load_state_dict(reader);
            bool hasSwa = reader.ReadBoolean();
            if (hasSwa != (_swa is not null)) throw new InvalidDataException($"{path}: SWA is {(hasSwa ? "on" : "off")} in the checkpoint but {(_swa is null ? "off" : "on")} in this trainer.");
            _swa?.Load(reader, path);
            int bestCount = reader.ReadInt32();
            ClearBestWeights();
            if (bestCount >= 0)
            {
                _bestWeights = [];
                var live = _model.state_dict();
                for (int i = 0; i < bestCount; i++)
                {
                    string name = reader.ReadString();
                    if (!live.TryGetValue(name, out Tensor? like)) throw new InvalidDataException($"{path}: the saved best weights hold '{name}', which the model does not have.");
                    Tensor value = zeros_like(like).DetachFromDisposeScope();
                    value.Load(reader);
                    _bestWeights[name] = value;
                }
            }
            if (reader.ReadString() != CheckpointMagic) throw new InvalidDataException($"{path} does not end with the checkpoint trailer.");
            _schedule.LoadState(state.ScheduleState);
            CompletedEpochs = state.Epoch;
            StepCount = state.StepCount;
            SkippedSteps = state.SkippedSteps;
            StoppedEarly = state.StoppedEarly;
            _bestMetric = state.BestMetric;
            _badEpochs = state.BadEpochs;
            _history = new TrainingHistory(state.History);
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException and not FileNotFoundException or ArgumentException or FormatException or System.Text.Json.JsonException)
        {
            throw new InvalidDataException($"{path} is truncated or does not fit this model, loss and optimiser: {ex.Message}", ex);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _optimizer.Dispose();
        _generator.Dispose();
        _sam?.Dispose();
        _swa?.Dispose();
        ClearBestWeights();
    }

    private static optim.Optimizer CreateOptimizer(TrainerOptions o, Parameter[] model, Parameter[] loss, double lossRate)
    {
        bool hasLoss = loss.Length > 0;
        switch (o.Optimizer)
        {
            case OptimizerKind.Sgd:
                var sgd = new List<SGD.ParamGroup> { new(model, o.LearningRate, o.Momentum, 0, o.WeightDecay, o.Nesterov) };
                if (hasLoss) sgd.Add(new SGD.ParamGroup(loss, lossRate, o.Momentum, 0, o.LossWeightDecay, o.Nesterov));
                return optim.SGD(sgd, o.LearningRate, o.Momentum, 0, o.WeightDecay, o.Nesterov);
            case OptimizerKind.Adam:
                var adam = new List<Adam.ParamGroup> { new(model, o.LearningRate, o.Beta1, o.Beta2, 1e-8, o.WeightDecay) };
                if (hasLoss) adam.Add(new Adam.ParamGroup(loss, lossRate, o.Beta1, o.Beta2, 1e-8, o.LossWeightDecay));
                return optim.Adam(adam, o.LearningRate, o.Beta1, o.Beta2, 1e-8, o.WeightDecay);
            case OptimizerKind.AdamW:
                var adamW = new List<AdamW.ParamGroup> { new(model, o.LearningRate, o.Beta1, o.Beta2, 1e-8, o.WeightDecay) };
                if (hasLoss) adamW.Add(new AdamW.ParamGroup(loss, lossRate, o.Beta1, o.Beta2, 1e-8, o.LossWeightDecay));
                return optim.AdamW(adamW, o.LearningRate, o.Beta1, o.Beta2, 1e-8, o.WeightDecay);
            default:
                throw new ArgumentOutOfRangeException(nameof(o), o.Optimizer, "Unknown optimiser.");
        }
    }

    internal static void RequireLabels(ITrainingImageSource set, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(set, parameterName);
        if (set.Labels is null)
            throw new ArgumentException("Training and validation need labelled images; this image set has no labels.", parameterName);
    }

    private void RunEpoch(ITrainingImageSource train, ITrainingImageSource? validation, CancellationToken cancellationToken)
    {
        int epoch = CompletedEpochs + 1;
        var clock = Stopwatch.StartNew();
        long[][] batches = EpochBatches(train);
        _model.train();
        _loss.train();
        double lossSum = 0;
        int finiteSteps = 0, skipped = 0, unreadable = 0, b = 0;
        long images = 0;
        double rate = _baseRates[0];
        Device device = _parameters[0].device;
        var unreadableCounter = new Extraction.SynchronousProgress<SkippedImage>(_ => unreadable++);
        // The sampler's epoch numbering (completed epochs) seeds the per-sample augmentation, so a resumed run repeats it.
        foreach (ImageBatch batch in train.ReadTrainingBatches(batches, _options.Seed, CompletedEpochs, unreadableCounter, cancellationToken))
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            batch.Images.MoveToOtherDisposeScope(scope);
            b++;
            rate = SetLearningRates();
            double lossValue = Step(batch.Images.to(device), tensor(batch.Labels!).to(device));
            if (double.IsFinite(lossValue))
            {
                lossSum += lossValue;
                finiteSteps++;
            }
            else
            {
                skipped++;
                SkippedSteps++;
                _options.Logger?.LogWarning("Epoch {Epoch}, batch {Batch}: non-finite loss or gradient ({Loss}); step skipped.", epoch, b, lossValue);
            }
            StepCount++;
            images += batch.Ids.Length;
            _options.Progress?.Report(new TrainingProgress(epoch, b, batches.Length, lossValue, rate, images / Math.Max(clock.Elapsed.TotalSeconds, 1e-9)));
        }
        double trainSeconds = clock.Elapsed.TotalSeconds;
        if (unreadable > 0)
            _options.Logger?.LogWarning("Epoch {Epoch}: {Count} unreadable images were left out of their batches.", epoch, unreadable);

        var metrics = validation is null ? null : EmbeddingValidation.Evaluate(_model, validation, _options.ValidationBatchSize, _validationMetric);
        double map = metrics?.MapAtR ?? double.NaN;
        if (metrics is not null) TrackBest(map);
        _schedule.ReportEpoch(map);
        if (_swa is not null && epoch >= _options.SwaStartEpoch) _swa.Update();
        CompletedEpochs = epoch;
        var record = new EpochRecord(epoch, finiteSteps == 0 ? double.NaN : lossSum / finiteSteps, rate,
            images / Math.Max(trainSeconds, 1e-9), skipped, metrics?.PrecisionAt1 ?? double.NaN, map, metrics?.RPrecision ?? double.NaN,
            clock.Elapsed.TotalSeconds);
        _history.Add(record);
        _options.Logger?.LogInformation("Epoch {Epoch}: loss {Loss:F4}, lr {Rate:G4}, {Speed:F0} img/s, P@1 {P1:F4}, MAP@R {Map:F4}, skipped {Skipped}.",
            epoch, record.TrainLoss, rate, record.ImagesPerSecond, record.PrecisionAt1, map, skipped);
        bool last = CompletedEpochs >= _options.Epochs || StoppedEarly;
        if (_options.CheckpointPath is { } path && (epoch % _options.CheckpointEvery == 0 || last)) SaveCheckpoint(path);
    }

    private long[][] EpochBatches(ITrainingImageSource train)
    {
        if (_options.Sampler is { } sampler)
        {
            sampler.SetEpoch(CompletedEpochs);
            return sampler.Batches().ToArray();
        }
        long[] order;
        using (var scope = NewDisposeScope())
            order = randperm(train.Count, generator: _generator).data<long>().ToArray();
        int size = _options.BatchSize;
        long count = _options.DropLast ? order.Length / size : (order.Length + size - 1) / size;
        if (count == 0)
            throw new ArgumentException($"The training set of {train.Count} images does not fill one batch of {size}; lower the batch size or set DropLast to false.", nameof(train));
        var batches = new long[count][];
        for (int b = 0; b < count; b++) batches[b] = order.AsSpan(b * size, (int)Math.Min(size, order.Length - b * size)).ToArray();
        return batches;
    }

    private double SetLearningRates()
    {
        int g = 0;
        double first = 0;
        double? momentum = _schedule.Momentum(StepCount);
        // Adam's and AdamW's groups carry β₁ each; TorchSharp's SGD keeps one momentum for all groups.
        if (momentum is double sgdMomentum && _optimizer is optim.IMomentum withMomentum) withMomentum.Momentum = sgdMomentum;
        foreach (var group in _optimizer.ParamGroups)
        {
            group.LearningRate = _schedule.LearningRate(_baseRates[g], StepCount);
            if (momentum is double m && group is optim.IBetas withBetas) withBetas.Betas = (m, withBetas.Betas.Item2);
            if (g == 0) first = group.LearningRate;
            g++;
        }
        return first;
    }

    // Returns the step's loss, or a non-finite value when the step was skipped.
    private double Step(Tensor images, Tensor labels)
    {
        if (_options.BatchTransform is { } transform) images = transform.Apply(images, _generator);
        MixedBatch? mixed = _options.Mixer?.Apply(images, labels, _generator);
        _optimizer.zero_grad();
        Tensor? loss = ComputeLoss(images, labels, mixed);
        if (loss is null) return Skip(double.NaN);
        loss.backward();
        using Tensor pair = stack([loss.detach().to(ScalarType.Float64).reshape(1), GradientNorm().to(ScalarType.Float64).reshape(1)]).cpu();
        // The one host read of the step: the loss and the gradient norm together.
        var values = pair.data<double>();
        double lossValue = values[0], norm = values[1];
        if (!double.IsFinite(lossValue) || !double.IsFinite(norm)) return Skip(double.IsFinite(lossValue) ? double.NaN : lossValue);
        if (_sam is not null)
        {
            _sam.AscendStep();
            _optimizer.zero_grad();
            Tensor? sharp = ComputeLoss(images, labels, mixed);
            if (sharp is not null) sharp.backward();
            _sam.RestoreWeights();
            if (sharp is null) return Skip(double.NaN);
            norm = GradientNorm().to(ScalarType.Float64).item<double>();
            if (!double.IsFinite(norm) || !double.IsFinite(sharp.detach().to(ScalarType.Float64).item<double>())) return Skip(double.NaN);
        }
        if (_options.MaxGradientNorm is { } maxNorm)
        {
            double coefficient = maxNorm / (norm + 1e-6);
            if (coefficient < 1)
            {
                using var noGrad = no_grad();
                foreach (var p in _parameters)
                {
                    if (p.grad is { } grad) grad.mul_(coefficient);
                }
            }
        }
        _optimizer.step();
        return lossValue;
    }

    private double Skip(double lossValue)
    {
        _optimizer.zero_grad();
        return lossValue;
    }

    private Tensor GradientNorm()
    {
        var norms = new List<Tensor>();
        foreach (var p in _parameters)
        {
            if (p.grad is { } grad) norms.Add(grad.detach().norm());
        }
        return norms.Count == 0 ? zeros(1) : stack(norms).norm();
    }

    private Tensor? ComputeLoss(Tensor images, Tensor labels, MixedBatch? mixed)
    {
        Tensor input = mixed?.Images ?? images;
        var (beforeNeck, afterNeck) = TrainingFeatures(input);
        try
        {
            return mixed is null
                ? _routing.Compute(beforeNeck, afterNeck, labels)
                : mixed.Combine(y => _routing.Compute(beforeNeck, afterNeck, y));
        }
        catch (ArgumentException) when (!beforeNeck.detach().isfinite().all().item<bool>() || !afterNeck.detach().isfinite().all().item<bool>())
        {
            // The losses reject non-finite embeddings; to the guard that is a non-finite step like any other.
            return null;
        }
    }

    // Both features of a BNNeck model; a model that does not split them gives its output as both.
    private (Tensor BeforeNeck, Tensor AfterNeck) TrainingFeatures(Tensor images)
    {
        if (_model is IEmbeddingModel split)
            return split.ForwardBoth(images);
        Tensor embeddings = _model.forward(images);
        return (embeddings, embeddings);
    }

    // Creates the checkpoint's folder and proves a file can be written there, so a bad path fails before the first epoch.
    private static void PrepareCheckpointFolder(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var probe = new AtomicFile(path);
    }

    private void TrackBest(double map)
    {
        if (map > _bestMetric + _options.EarlyStoppingMinDelta || double.IsNegativeInfinity(_bestMetric))
        {
            _bestMetric = map;
            _badEpochs = 0;
            if (_options.RestoreBestWeights && _swa is null)
            {
                ClearBestWeights();
                _bestWeights = _model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope());
            }
        }
        else
        {
            _badEpochs++;
            if (_options.EarlyStoppingPatience is { } patience && _badEpochs >= patience)
            {
                StoppedEarly = true;
                _options.Logger?.LogInformation("Early stopping after epoch {Epoch}: MAP@R has not improved on {Best:F4} for {Patience} epochs.", CompletedEpochs + 1, _bestMetric, patience);
            }
        }
    }

    private void Finish(ITrainingImageSource train)
    {
        using var scope = NewDisposeScope();
        if (_swa is { AveragedCount: > 0 })
        {
            _swa.CopyTo();
            StochasticWeightAveraging.UpdateBatchNormFromSource(_model, train.ReadBatches(_options.ValidationBatchSize), _parameters[0].device);
            _options.Logger?.LogInformation("Applied the weight average of {Count} epochs and recomputed batch-norm statistics.", _swa.AveragedCount);
        }
        else if (_bestWeights is not null)
        {
            using var noGrad = no_grad();
            var live = _model.state_dict();
            foreach (var (name, value) in _bestWeights) live[name].copy_(value);
            _options.Logger?.LogInformation("Restored the weights of the best validation MAP@R ({Best:F4}).", _bestMetric);
        }
    }

    private void ClearBestWeights()
    {
        if (_bestWeights is null) return;
        foreach (var value in _bestWeights.Values) value.Dispose();
        _bestWeights = null;
    }

    private static void WriteTensorBytes(BinaryWriter writer, Tensor state)
    {
        using (state)
        {
            byte[] bytes = state.to(ScalarType.Byte).cpu().data<byte>().ToArray();
            writer.Write(bytes.Length);
            writer.Write(bytes);
        }
    }

    private static Tensor ReadTensorBytes(BinaryReader reader)
    {
        int length = reader.ReadInt32();
        if (length < 0) throw new InvalidDataException("A random-number state has a negative length.");
        byte[] bytes = reader.ReadBytes(length);
        if (bytes.Length != length) throw new EndOfStreamException();
        return tensor(bytes, dtype: ScalarType.Byte);
    }
}
