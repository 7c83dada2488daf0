using DeepRetrieval.Torch.Miners;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// Cross-batch memory (Wang, Zhang, Huang and Scott 2020, "Cross-Batch Memory for Embedding Learning"; PML
/// <c>CrossBatchMemory</c>): a first-in first-out ring buffer of the last <see cref="MemorySize"/> embeddings (detached) and labels.
/// Each call enqueues the batch, then computes the wrapped loss with anchors from the batch and positives and negatives from
/// the whole memory, so a small batch sees many more pairs. Pairs of an element with its own memory slot are removed, as in PML.
/// Without a miner every pair between the batch and the memory is used; with one, the miner mines against the memory.
/// The memory lives outside any dispose scope and is released by <see cref="nn.Module.Dispose()"/>; it takes the dtype and
/// device of the first batch (and follows later batches, converting what it holds).
/// </summary>
public sealed class CrossBatchMemory : nn.Module<Tensor, Tensor, Tensor>
{
    private Tensor? _embeddings;
    private Tensor? _labels;

    /// <summary>Creates the memory around a loss.</summary>
    /// <param name="loss">The loss to compute between the batch (anchors) and the memory (positives and negatives).</param>
    /// <param name="embeddingSize">The embeddings' width d.</param>
    /// <param name="memorySize">How many past embeddings are kept (PML default 1024).</param>
    /// <param name="miner">Optional miner, run between the batch and the memory.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    public CrossBatchMemory(MetricLoss loss, int embeddingSize, int memorySize = 1024, IMiner? miner = null) : base(nameof(CrossBatchMemory))
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(embeddingSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(memorySize);
        Loss = loss;
        Miner = miner;
        EmbeddingSize = embeddingSize;
        MemorySize = memorySize;
        register_module("loss", loss);
    }

    /// <summary>The wrapped loss.</summary>
    public MetricLoss Loss { get; }

    /// <summary>The miner run against the memory, or null for all pairs.</summary>
    public IMiner? Miner { get; }

    /// <summary>The embeddings' width d.</summary>
    public int EmbeddingSize { get; }

    /// <summary>How many past embeddings are kept.</summary>
    public int MemorySize { get; }

    /// <summary>The slot the next embedding goes to (PML's <c>queue_idx</c>).</summary>
    public int QueueIndex { get; private set; }

    /// <summary>True once the ring buffer has wrapped, so all <see cref="MemorySize"/> slots hold embeddings.</summary>
    public bool IsFilled { get; private set; }

    /// <summary>How many slots hold embeddings.</summary>
    public int Count => IsFilled ? MemorySize : QueueIndex;

    /// <summary>Enqueues the batch and returns the loss of the batch against the memory.</summary>
    /// <param name="embeddings">b × d embeddings, b ≤ <see cref="MemorySize"/>.</param>
    /// <param name="labels">b integer labels.</param>
    /// <exception cref="ArgumentException">Shapes or types are wrong, the batch is larger than the memory, or the embeddings hold NaN or infinity.</exception>
    public override Tensor forward(Tensor embeddings, Tensor labels) => forward(embeddings, labels, Miner);

    /// <summary>
    /// Enqueues the batch and returns the loss of the batch against the memory, with tuples mined by <paramref name="miner"/>
    /// against the memory instead of <see cref="Miner"/> (the trainer passes its own miner this way).
    /// </summary>
    /// <param name="embeddings">b × d embeddings, b ≤ <see cref="MemorySize"/>.</param>
    /// <param name="labels">b integer labels.</param>
    /// <param name="miner">Mines between the batch and the memory; null uses every pair.</param>
    /// <exception cref="ArgumentException">Shapes or types are wrong, the batch is larger than the memory, or the embeddings hold NaN or infinity.</exception>
    public Tensor forward(Tensor embeddings, Tensor labels, IMiner? miner)
    {
        Check(embeddings, labels);
        CheckFits(embeddings.shape[0], nameof(embeddings));
        Tensor slots = Enqueue(embeddings, labels);
        Tensor memoryEmbeddings = _embeddings!.narrow(0, 0, Count);
        Tensor memoryLabels = _labels!.narrow(0, 0, Count);
        IndexTuples tuples = miner?.Mine(embeddings, labels, memoryEmbeddings, memoryLabels) ?? IndexTupleOps.AllPairs(labels, memoryLabels);
        return Loss.forward(embeddings, labels, RemoveSelfPairs(tuples, slots), memoryEmbeddings, memoryLabels);
    }

    /// <summary>
    /// Splits the batch (PML's <c>enqueue_mask</c>, for two views as in MoCo): rows where <paramref name="enqueueMask"/> is
    /// true only go into the memory; the other rows are the anchors, compared with the whole memory. No self pairs are
    /// removed, because an anchor is never in the memory itself.
    /// </summary>
    /// <param name="embeddings">b × d embeddings.</param>
    /// <param name="labels">b integer labels.</param>
    /// <param name="enqueueMask">b booleans: true to enqueue, false to use as an anchor; at most <see cref="MemorySize"/> true.</param>
    /// <exception cref="ArgumentException">Shapes or types are wrong, too many rows are enqueued, or the embeddings hold NaN or infinity.</exception>
    public Tensor forward(Tensor embeddings, Tensor labels, Tensor enqueueMask)
    {
        Check(embeddings, labels);
        ArgumentNullException.ThrowIfNull(enqueueMask);
        if (enqueueMask.dtype != ScalarType.Bool || enqueueMask.dim() != 1 || enqueueMask.shape[0] != embeddings.shape[0])
            throw new ArgumentException($"The enqueue mask must be 1-D booleans, one per embedding ({embeddings.shape[0]}); got {enqueueMask.dtype} of shape [{string.Join(", ", enqueueMask.shape)}].", nameof(enqueueMask));
        Tensor enqueued = enqueueMask.nonzero()[.., 0];
        Tensor anchors = enqueueMask.logical_not().nonzero()[.., 0];
        CheckFits(enqueued.shape[0], nameof(enqueueMask));
        Enqueue(embeddings.index_select(0, enqueued), labels.index_select(0, enqueued));
        Tensor memoryEmbeddings = _embeddings!.narrow(0, 0, Count);
        Tensor memoryLabels = _labels!.narrow(0, 0, Count);
        Tensor anchorEmbeddings = embeddings.index_select(0, anchors);
        Tensor anchorLabels = labels.index_select(0, anchors);
        IndexTuples tuples = Miner?.Mine(anchorEmbeddings, anchorLabels, memoryEmbeddings, memoryLabels) ?? IndexTupleOps.AllPairs(anchorLabels, memoryLabels);
        return Loss.forward(anchorEmbeddings, anchorLabels, tuples, memoryEmbeddings, memoryLabels);
    }

    /// <summary>A copy of the stored embeddings in slot order (<see cref="Count"/> × d), or an empty tensor before the first batch.</summary>
    public Tensor MemoryEmbeddings() => _embeddings is null ? zeros(0, EmbeddingSize) : _embeddings.narrow(0, 0, Count).clone();

    /// <summary>A copy of the stored labels in slot order (<see cref="Count"/> int64 values).</summary>
    public Tensor MemoryLabels() => _labels is null ? zeros(0, dtype: ScalarType.Int64) : _labels.narrow(0, 0, Count).clone();

    /// <summary>Empties the memory (PML's <c>reset_queue</c>).</summary>
    public void ResetQueue()
    {
        QueueIndex = 0;
        IsFilled = false;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _embeddings?.Dispose();
            _labels?.Dispose();
            _embeddings = _labels = null;
        }
        base.Dispose(disposing);
    }

    private void Check(Tensor embeddings, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        IndexTupleOps.CheckLabels(labels, nameof(labels));
        if (embeddings.dim() != 2 || embeddings.shape[1] != EmbeddingSize)
            throw new ArgumentException($"Embeddings must be a 2-D tensor (batch × {EmbeddingSize}); got shape [{string.Join(", ", embeddings.shape)}].", nameof(embeddings));
        if (!embeddings.is_floating_point())
            throw new ArgumentException($"Embeddings must be floating point; got {embeddings.dtype}.", nameof(embeddings));
        if (labels.shape[0] != embeddings.shape[0])
            throw new ArgumentException($"There are {embeddings.shape[0]} embeddings but {labels.shape[0]} labels.", nameof(labels));
        using var finite = embeddings.detach().isfinite().all();
        // Checked before enqueueing: one bad batch would otherwise poison the memory for many steps.
        if (!finite.item<bool>())
            throw new ArgumentException("Embeddings contain NaN or infinite values.", nameof(embeddings));
    }

    private void CheckFits(long count, string name)
    {
        if (count > MemorySize)
            throw new ArgumentException($"A batch of {count} to enqueue does not fit a memory of {MemorySize}.", name);
    }

    private Tensor Enqueue(Tensor embeddings, Tensor labels)
    {
        EnsureMemory(embeddings);
        long batch = embeddings.shape[0];
        // An empty enqueue must not look like a wrap-around (PML marks the memory filled then).
        if (batch == 0) return zeros(0, dtype: ScalarType.Int64, device: embeddings.device);
        Tensor slots = (arange(batch, dtype: ScalarType.Int64, device: embeddings.device) + QueueIndex).remainder(MemorySize);
        using (no_grad())
        {
            _embeddings!.index_copy_(0, slots, embeddings.detach());
            _labels!.index_copy_(0, slots, labels.to(ScalarType.Int64));
        }
        int previous = QueueIndex;
        QueueIndex = (int)((QueueIndex + batch) % MemorySize);
        if (QueueIndex <= previous) IsFilled = true;
        return slots;
    }

    private void EnsureMemory(Tensor like)
    {
        if (_embeddings is not null && _embeddings.dtype == like.dtype && _embeddings.device == like.device) return;
        // Detached from every dispose scope: the memory must outlive the training step that first filled it.
        Tensor embeddings = _embeddings is null
            ? zeros(MemorySize, EmbeddingSize, dtype: like.dtype, device: like.device)
            : _embeddings.to(like.dtype, like.device);
        Tensor labels = _labels is null ? zeros(MemorySize, dtype: ScalarType.Int64, device: like.device) : _labels.to(like.device);
        _embeddings?.Dispose();
        _labels?.Dispose();
        _embeddings = embeddings.DetachFromDisposeScope();
        _labels = labels.DetachFromDisposeScope();
    }

    private static IndexTuples RemoveSelfPairs(IndexTuples tuples, Tensor slots)
    {
        switch (tuples)
        {
            case PairTuples pairs:
                Tensor keep = pairs.Positives.ne(slots.index_select(0, pairs.PositiveAnchors)).nonzero()[.., 0];
                return pairs with { PositiveAnchors = pairs.PositiveAnchors.index_select(0, keep), Positives = pairs.Positives.index_select(0, keep) };
            case TripletTuples triplets:
                Tensor kept = triplets.Positives.ne(slots.index_select(0, triplets.Anchors)).nonzero()[.., 0];
                return new TripletTuples(triplets.Anchors.index_select(0, kept), triplets.Positives.index_select(0, kept), triplets.Negatives.index_select(0, kept));
            default:
                throw new ArgumentException($"Unknown tuple type {tuples.GetType().Name}.", nameof(tuples));
        }
    }
}
