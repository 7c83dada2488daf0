using System.Collections;

namespace DeepRetrieval.Torch.Samplers;

/// <summary>
/// Base of the seeded batch samplers: an epoch is a fixed sequence of batches of dataset indices, a pure function of
/// (<see cref="Seed"/>, <see cref="Epoch"/>), so training resumes bit-identically by constructing the sampler with the same
/// arguments and calling <see cref="SetEpoch"/> (as PyTorch's <c>DistributedSampler.set_epoch</c>). Enumerating the same epoch
/// twice gives the same batches: call <see cref="SetEpoch"/> at the start of every epoch to get new ones.
/// <para>
/// Random numbers come from SplitMix64 started at <c>(epoch &lt;&lt; 32) | (uint)seed</c>; a value below n is the next
/// 64-bit output modulo n.
/// </para>
/// <para>
/// TorchSharp 0.107 has no Sampler or BatchSampler type: its <c>DataLoader</c> takes an <c>IEnumerable&lt;long&gt;</c> of indices
/// (the <c>shuffler</c> argument) and cuts it into consecutive chunks of <c>batchSize</c>. This class is that enumerable (the
/// batches, concatenated), so passing it with <c>batchSize: sampler.BatchSize</c> yields exactly <see cref="Batches"/>:
/// <code>
/// var loader = torch.utils.data.DataLoader(dataset, sampler.BatchSize, sampler, drop_last: true);
/// for (int epoch = 0; epoch &lt; epochs; epoch++) { sampler.SetEpoch(epoch); foreach (var batch in loader) { ... } }
/// </code>
/// (The loader's own <c>Count</c> is computed from the dataset size, not from the sampler; use <see cref="BatchCount"/>.)
/// </para>
/// </summary>
public abstract class IndexBatchSampler : IEnumerable<long>
{
    private protected IndexBatchSampler(int batchSize, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        BatchSize = batchSize;
        Seed = seed;
    }

    /// <summary>Indices per batch (the last batch may be shorter only where a sampler says so).</summary>
    public int BatchSize { get; }

    /// <summary>The seed given at construction.</summary>
    public int Seed { get; }

    /// <summary>The epoch whose batches are produced; 0 until <see cref="SetEpoch"/> is called.</summary>
    public int Epoch { get; private set; }

    /// <summary>Number of batches in one epoch.</summary>
    public abstract int BatchCount { get; }

    /// <summary>Number of indices in one epoch (the sum of the batch lengths; PyTorch's <c>len(sampler)</c>).</summary>
    public abstract long Length { get; }

    /// <summary>Selects the epoch whose batches are produced next, so each epoch differs and a resumed run repeats the original.</summary>
    /// <param name="epoch">A non-negative epoch number.</param>
    /// <exception cref="ArgumentOutOfRangeException">epoch is negative.</exception>
    public void SetEpoch(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        Epoch = epoch;
    }

    /// <summary>The batches of the current epoch.</summary>
    public IEnumerable<long[]> Batches()
    {
        var random = new SplitMix64(((ulong)(uint)Epoch << 32) | (uint)Seed);
        return CreateBatches(random);
    }

    /// <summary>The indices of the current epoch, batch after batch (what TorchSharp's <c>DataLoader</c> consumes).</summary>
    public IEnumerator<long> GetEnumerator()
    {
        foreach (long[] batch in Batches())
            foreach (long index in batch)
                yield return index;
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private protected abstract IEnumerable<long[]> CreateBatches(SplitMix64 random);

    /// <summary>Groups dataset indices by label: distinct labels ascending, and each class's indices ascending.</summary>
    private protected static (long[] Classes, long[][] IndicesByClass) GroupByClass(IReadOnlyList<long> labels, string name)
    {
        ArgumentNullException.ThrowIfNull(labels, name);
        if (labels.Count == 0) throw new ArgumentException("The label list is empty.", name);
        var groups = new SortedDictionary<long, List<long>>();
        for (int i = 0; i < labels.Count; i++)
        {
            if (!groups.TryGetValue(labels[i], out List<long>? members)) groups[labels[i]] = members = [];
            members.Add(i);
        }
        return (groups.Keys.ToArray(), groups.Values.Select(g => g.ToArray()).ToArray());
    }
}
