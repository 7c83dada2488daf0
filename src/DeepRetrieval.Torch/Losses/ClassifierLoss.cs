using DeepRetrieval.Torch.Distances;
using DeepRetrieval.Torch.Miners;
using DeepRetrieval.Torch.Reducers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// Base of the softmax-family losses (PML's <c>WeightRegularizerMixin</c> losses): the loss owns a class-weight matrix
/// <see cref="Weight"/> (a <see cref="Parameter"/>, one row per class, PML's <c>W</c> transposed), turns a batch of embeddings into
/// n × C training logits (with the loss's margin on the target class), and scores them with <see cref="Criterion"/> (softmax
/// cross-entropy unless another <see cref="LogitLoss"/> such as <see cref="FocalLoss"/> is given). Give the loss's parameters to
/// the optimiser together with the model's. <see cref="Logits"/> gives the margin-free logits for accuracy or inference.
/// Mined tuples weigh each element by how often it occurs in them (PML's <c>convert_to_weights</c>); a reference set is not
/// supported, as a class-weight loss compares embeddings with classes, not with other embeddings.
/// </summary>
public abstract class ClassifierLoss : MetricLoss
{
    private const string WeightName = "weight";

    /// <summary>Creates the loss and its weight matrix, drawn from N(0, <paramref name="initialStd"/>²).</summary>
    /// <param name="name">Module name.</param>
    /// <param name="numClasses">C, the number of classes.</param>
    /// <param name="embeddingSize">d, the embedding width.</param>
    /// <param name="weightRows">Rows of the weight matrix (C, or C·K with K sub-centres).</param>
    /// <param name="initialStd">Standard deviation of the initial weights (PML: 1).</param>
    /// <param name="distance">How embeddings are compared with class weights.</param>
    /// <param name="criterion">Loss on the training logits; null is softmax cross-entropy.</param>
    /// <param name="reducer">Reduction of the criterion's values; null is the mean (PML's default).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1.</exception>
    protected ClassifierLoss(string name, int numClasses, int embeddingSize, long weightRows, double initialStd,
        EmbeddingDistance distance, LogitLoss? criterion, LossReducer? reducer)
        : base(name, distance, reducer ?? new MeanReducer())
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(embeddingSize, 1);
        NumClasses = numClasses;
        EmbeddingSize = embeddingSize;
        Criterion = criterion ?? new LabelSmoothingCrossEntropyLoss(smoothing: 0);
        Parameter weight;
        using (no_grad())
            weight = new Parameter(randn(weightRows, embeddingSize) * initialStd);
        // A parameter must outlive whatever dispose scope the caller constructs the loss in.
        weight.DetachFromDisposeScope();
        register_parameter(WeightName, weight);
        register_module("criterion", Criterion);
    }

    /// <summary>C, the number of classes.</summary>
    public int NumClasses { get; }

    /// <summary>d, the embedding width.</summary>
    public int EmbeddingSize { get; }

    /// <summary>The loss applied to the training logits.</summary>
    public LogitLoss Criterion { get; }

    /// <summary>
    /// The class weights, one row per class (per sub-centre for <see cref="SubCenterArcFaceLoss"/>). Looked up on every access
    /// because moving the module (<c>.to(float64)</c>) replaces the parameter. Copy into it under <c>no_grad</c> to set it.
    /// </summary>
    public Parameter Weight => named_parameters(recurse: false).First(p => p.name == WeightName).parameter;

    /// <summary>The margin-free n × C logits of <paramref name="embeddings"/> (PML's <c>get_logits</c>), for accuracy or inference.</summary>
    /// <param name="embeddings">n × d embeddings.</param>
    /// <exception cref="ArgumentException">The embeddings are not a floating-point n × d tensor.</exception>
    public Tensor Logits(Tensor embeddings)
    {
        CheckEmbeddings(embeddings);
        return ComputeLogits(embeddings);
    }

    /// <summary>The margin-free logits of checked embeddings.</summary>
    /// <param name="embeddings">n × d floating-point embeddings.</param>
    protected abstract Tensor ComputeLogits(Tensor embeddings);

    /// <summary>The training logits (with the loss's margin) and the target column of each element.</summary>
    /// <param name="embeddings">n × d floating-point embeddings.</param>
    /// <param name="labels">n int64 labels in 0..C−1.</param>
    /// <returns>n × K logits and n int64 targets in 0..K−1 (K = C and targets = labels unless classes are sampled).</returns>
    protected abstract (Tensor Logits, Tensor Targets) ComputeTrainingLogits(Tensor embeddings, Tensor labels);

    /// <summary>The weight matrix in the embeddings' dtype, so float64 embeddings work without moving the module.</summary>
    /// <param name="embeddings">The embeddings whose dtype to match.</param>
    protected Tensor WeightLike(Tensor embeddings)
    {
        Tensor weight = Weight;
        return weight.dtype == embeddings.dtype ? weight : weight.to(embeddings.dtype);
    }

    /// <summary>The cosine of every embedding with every class weight row: n × rows.</summary>
    /// <param name="embeddings">n × d embeddings.</param>
    protected Tensor CosineToWeights(Tensor embeddings) => Distance.Pairwise(embeddings, WeightLike(embeddings));

    /// <summary>
    /// <paramref name="logits"/> with the target column of each row replaced by <paramref name="targetValues"/> (PML's
    /// <c>cosine + mask·diff</c>); both tensors stay differentiable.
    /// </summary>
    /// <param name="logits">n × C values.</param>
    /// <param name="labels">n int64 target columns.</param>
    /// <param name="targetValues">n new target values.</param>
    protected static Tensor ReplaceTargets(Tensor logits, Tensor labels, Tensor targetValues) =>
        logits.scatter(1, labels.unsqueeze(1), targetValues.unsqueeze(1));

    /// <summary>Each row's value in its target column.</summary>
    /// <param name="values">n × C values.</param>
    /// <param name="labels">n int64 target columns.</param>
    protected static Tensor TargetValues(Tensor values, Tensor labels) => values.gather(1, labels.unsqueeze(1)).squeeze(1);

    /// <inheritdoc />
    protected sealed override IEnumerable<LossTerms> ComputeTerms(LossInput input)
    {
        if (!input.ReferenceIsBatch)
            throw new ArgumentException($"{GetType().Name} compares embeddings with class weights; reference embeddings are not supported.", "referenceEmbeddings");
        CheckEmbeddings(input.Embeddings);
        Tensor labels = LogitLoss.CheckLabelRange(input.Labels, NumClasses, "labels");
        (Tensor logits, Tensor targets) = ComputeTrainingLogits(input.Embeddings, labels);
        LossTerms terms = Criterion.Terms(logits, targets);
        if (input.Tuples is not null) terms = WeighByTuples(terms, input.Tuples, input.Embeddings.shape[0]);
        yield return terms;
    }

    private static LossTerms WeighByTuples(LossTerms terms, IndexTuples tuples, long batchSize)
    {
        if (terms.Kind == LossTermKind.AlreadyReduced)
            throw new ArgumentException("The criterion reduces its values itself, so they cannot be weighted by mined tuples.", nameof(tuples));
        Tensor[] parts = tuples switch
        {
            PairTuples p => [p.PositiveAnchors, p.Positives, p.NegativeAnchors, p.Negatives],
            TripletTuples t => [t.Anchors, t.Positives, t.Negatives],
            _ => throw new ArgumentException($"Unknown tuple type {tuples.GetType().Name}.", nameof(tuples)),
        };
        Tensor indices = cat(parts.Select(p => p.to(ScalarType.Int64)).ToList(), 0);
        if (indices.numel() == 0) return terms;
        if (indices.min().item<long>() < 0 || indices.max().item<long>() >= batchSize)
            throw new ArgumentException($"Mined tuples index outside the batch of {batchSize}.", nameof(tuples));
        // Weight = occurrences / most occurrences, so elements the miner never chose drop out (PML's convert_to_weights).
        Tensor counts = indices.bincount(null, batchSize).to(terms.Values.dtype);
        Tensor weights = counts / counts.max();
        return new LossTerms(terms.Values * weights.index_select(0, terms.AnchorIndices()), terms.Kind, terms.Anchors);
    }

    /// <summary>Checks that <paramref name="embeddings"/> is a floating-point n × d tensor.</summary>
    /// <param name="embeddings">The tensor to check.</param>
    /// <exception cref="ArgumentException">It is not.</exception>
    protected void CheckEmbeddings(Tensor embeddings)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        if (embeddings.dim() != 2 || !embeddings.is_floating_point())
            throw new ArgumentException($"Embeddings must be a floating-point 2-D tensor (batch × {EmbeddingSize}); got {embeddings.dtype} of shape [{string.Join(", ", embeddings.shape)}].", nameof(embeddings));
        if (embeddings.shape[1] != EmbeddingSize)
            throw new ArgumentException($"Embeddings have {embeddings.shape[1]} components but the loss was built for {EmbeddingSize}.", nameof(embeddings));
    }
}
