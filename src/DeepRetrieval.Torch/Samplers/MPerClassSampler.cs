namespace DeepRetrieval.Torch.Samplers;

/// <summary>
/// P × K batches for metric learning, as pytorch-metric-learning's <c>MPerClassSampler(labels, m, batch_size,
/// length_before_new_iter)</c>: every batch holds P = batchSize / m distinct classes with m indices each. Per batch the list of
/// classes (ascending labels, then shuffled in place, the shuffle carrying over from batch to batch as in PML) is Fisher–Yates
/// shuffled (i from last down to 1, swap i with a value below i + 1) and its first P classes are taken; for each, m indices are
/// drawn WITHOUT replacement when the class has at least m (a partial Fisher–Yates over a fresh ascending copy: for t = 0..m−1
/// swap t with t + a value below count − t, take position t), and WITH replacement when it has fewer (m uniform draws), so small
/// classes repeat images within a batch. An epoch is ⌊lengthBeforeNewIter / batchSize⌋ batches (PML rounds the length down to
/// a multiple of the batch size too). See <see cref="IndexBatchSampler"/> for seeding, epochs and TorchSharp's DataLoader.
/// </summary>
public sealed class MPerClassSampler : IndexBatchSampler
{
    private readonly long[] _classes;
    private readonly long[][] _indicesByClass;
    private readonly int _batchCount;

    /// <summary>Creates the sampler.</summary>
    /// <param name="labels">The class label of every dataset item, indexed by dataset index.</param>
    /// <param name="m">Indices per class in a batch (K).</param>
    /// <param name="batchSize">Indices per batch; a multiple of <paramref name="m"/>.</param>
    /// <param name="lengthBeforeNewIter">Indices per epoch before rounding down to whole batches (PML's default 100,000).</param>
    /// <param name="seed">Seed of the random choices.</param>
    /// <exception cref="ArgumentException">The labels are empty, the batch size is not a multiple of m, or there are fewer than batchSize / m classes.</exception>
    /// <exception cref="ArgumentOutOfRangeException">m or batchSize is not positive, or lengthBeforeNewIter is smaller than batchSize.</exception>
    public MPerClassSampler(IReadOnlyList<long> labels, int m, int batchSize, int lengthBeforeNewIter = 100_000, int seed = 0)
        : base(batchSize, seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(m);
        if (batchSize % m != 0)
            throw new ArgumentException($"The batch size {batchSize} is not a multiple of m = {m} indices per class.", nameof(batchSize));
        if (lengthBeforeNewIter < batchSize)
            throw new ArgumentOutOfRangeException(nameof(lengthBeforeNewIter), lengthBeforeNewIter, $"An epoch must hold at least one batch of {batchSize}.");
        (_classes, _indicesByClass) = GroupByClass(labels, nameof(labels));
        int classesPerBatch = batchSize / m;
        if (_classes.Length < classesPerBatch)
            throw new ArgumentException(
                $"A batch of {batchSize} with m = {m} needs {classesPerBatch} distinct classes, but the labels have only {_classes.Length}.", nameof(labels));
        M = m;
        ClassesPerBatch = classesPerBatch;
        _batchCount = lengthBeforeNewIter / batchSize;
    }

    /// <summary>Indices per class in a batch (K).</summary>
    public int M { get; }

    /// <summary>Distinct classes per batch (P = batchSize / m).</summary>
    public int ClassesPerBatch { get; }

    /// <inheritdoc />
    public override int BatchCount => _batchCount;

    /// <inheritdoc />
    public override long Length => (long)_batchCount * BatchSize;

    private protected override IEnumerable<long[]> CreateBatches(SplitMix64 random)
    {
        long[] classOrder = Enumerable.Range(0, _classes.Length).Select(i => (long)i).ToArray();
        long[] scratch = new long[_indicesByClass.Max(c => c.Length)];
        for (int b = 0; b < _batchCount; b++)
        {
            for (int i = classOrder.Length - 1; i > 0; i--)
            {
                int j = random.NextBelow(i + 1);
                (classOrder[i], classOrder[j]) = (classOrder[j], classOrder[i]);
            }
            var batch = new long[BatchSize];
            int position = 0;
            for (int c = 0; c < ClassesPerBatch; c++)
            {
                long[] members = _indicesByClass[classOrder[c]];
                if (members.Length >= M)
                {
                    members.CopyTo(scratch, 0);
                    for (int t = 0; t < M; t++)
                    {
                        int j = t + random.NextBelow(members.Length - t);
                        (scratch[t], scratch[j]) = (scratch[j], scratch[t]);
                        batch[position++] = scratch[t];
                    }
                }
                else
                {
                    for (int t = 0; t < M; t++) batch[position++] = members[random.NextBelow(members.Length)];
                }
            }
            yield return batch;
        }
    }
}
