namespace DeepRetrieval.Torch.Samplers;

/// <summary>
/// Class-balanced sampling with replacement: every draw picks a class uniformly among the distinct classes, then an index
/// uniformly within that class, so item i is drawn with probability 1 / (classes · count(class of i)), i.e. ∝ 1 / count(class)
/// (the same distribution as PyTorch's <c>WeightedRandomSampler(weights = 1 / class_count[labels], replacement=True)</c>). Rare
/// classes are seen as often as frequent ones. An epoch is <c>samplesPerEpoch</c> draws cut into batches of
/// <c>batchSize</c>; the last batch is shorter when the batch size does not divide it, unless <c>dropLast</c>. Draw order: for
/// each sample, the class (a value below the class count, classes in ascending label order), then the member (a value below
/// the class size, members in ascending index order). See <see cref="IndexBatchSampler"/> for seeding and epochs.
/// </summary>
public sealed class ClassBalancedSampler : IndexBatchSampler
{
    private readonly long[][] _indicesByClass;

    /// <summary>Creates the sampler.</summary>
    /// <param name="labels">The class label of every dataset item, indexed by dataset index.</param>
    /// <param name="batchSize">Indices per batch.</param>
    /// <param name="samplesPerEpoch">Draws per epoch; null draws as many as there are items.</param>
    /// <param name="dropLast">Drop a final batch shorter than <paramref name="batchSize"/>.</param>
    /// <param name="seed">Seed of the random choices.</param>
    /// <exception cref="ArgumentException">The labels are empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">batchSize or samplesPerEpoch is not positive, or dropLast leaves no batch.</exception>
    public ClassBalancedSampler(IReadOnlyList<long> labels, int batchSize, int? samplesPerEpoch = null, bool dropLast = false, int seed = 0)
        : base(batchSize, seed)
    {
        (long[] classes, _indicesByClass) = GroupByClass(labels, nameof(labels));
        int samples = samplesPerEpoch ?? labels.Count;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(samples, nameof(samplesPerEpoch));
        if (dropLast && samples < batchSize)
            throw new ArgumentOutOfRangeException(nameof(samplesPerEpoch), samples, $"With dropLast an epoch must hold at least one batch of {batchSize}.");
        SamplesPerEpoch = dropLast ? samples - samples % batchSize : samples;
        ClassCount = classes.Length;
    }

    /// <summary>Number of distinct classes.</summary>
    public int ClassCount { get; }

    /// <summary>Draws per epoch after any dropped final batch.</summary>
    public int SamplesPerEpoch { get; }

    /// <inheritdoc />
    public override int BatchCount => (SamplesPerEpoch + BatchSize - 1) / BatchSize;

    /// <inheritdoc />
    public override long Length => SamplesPerEpoch;

    private protected override IEnumerable<long[]> CreateBatches(SplitMix64 random)
    {
        for (int start = 0; start < SamplesPerEpoch; start += BatchSize)
        {
            var batch = new long[Math.Min(BatchSize, SamplesPerEpoch - start)];
            for (int i = 0; i < batch.Length; i++)
            {
                long[] members = _indicesByClass[random.NextBelow(_indicesByClass.Length)];
                batch[i] = members[random.NextBelow(members.Length)];
            }
            yield return batch;
        }
    }
}
