using DeepRetrieval.Torch.Distances;
using DeepRetrieval.Torch.Reducers;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// Sampled softmax for very many classes (Bengio &amp; Senécal 2008; Jean et al. 2015, "On Using Very Large Target Vocabulary for
/// Neural Machine Translation"): instead of all C logits <c>z_c = x·w_c</c>, each batch scores the set S of its own label classes
/// (all kept) plus <see cref="SampledNegatives"/> other classes drawn uniformly without replacement from the remaining M. Each
/// sampled logit is corrected by its log inclusion probability, <c>z_c − log Q(c)</c> with Q = (number drawn)/M, so that
/// <c>Σ_{c∈S} e^{z_c − log Q(c)}</c> estimates the full partition function without bias in its non-batch part:
/// <c>ℓᵢ = −log( e^{z_yᵢ} / Σ_{c∈S} e^{z_c − log Q(c)} )</c> (label classes have Q = 1), averaged over the batch. With every class
/// sampled it is exactly full softmax cross-entropy. Draws come from a seeded generator, so runs repeat. W (C × d, no bias) is drawn
/// from N(0, 1/d); <see cref="ClassifierLoss.Logits"/> gives all C logits.
/// </summary>
public sealed class SampledSoftmaxLoss : ClassifierLoss
{
    private readonly Random _random;

    /// <summary>Creates the loss.</summary>
    /// <param name="numClasses">C.</param>
    /// <param name="embeddingSize">d.</param>
    /// <param name="sampledNegatives">How many classes outside the batch's labels each batch draws (all of them when fewer remain).</param>
    /// <param name="seed">Seed of the class sampler.</param>
    /// <param name="reducer">Null is the mean.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sampledNegatives"/> is negative.</exception>
    public SampledSoftmaxLoss(int numClasses, int embeddingSize, int sampledNegatives, int seed = 0, LossReducer? reducer = null)
        : base(nameof(SampledSoftmaxLoss), numClasses, embeddingSize, numClasses, 1 / Math.Sqrt(Math.Max(1, embeddingSize)),
            new DotProductSimilarity(normalizeEmbeddings: false), null, reducer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sampledNegatives);
        SampledNegatives = sampledNegatives;
        _random = new Random(seed);
    }

    /// <summary>How many classes outside the batch's labels each batch draws.</summary>
    public int SampledNegatives { get; }

    /// <inheritdoc />
    protected override Tensor ComputeLogits(Tensor embeddings) => Distance.Pairwise(embeddings, WeightLike(embeddings));

    /// <inheritdoc />
    protected override (Tensor Logits, Tensor Targets) ComputeTrainingLogits(Tensor embeddings, Tensor labels)
    {
        (Tensor positives, Tensor? targets, _) = unique(labels, sorted: true, return_inverse: true);
        long positiveCount = positives.shape[0];
        long remaining = NumClasses - positiveCount;
        long drawn = Math.Min(SampledNegatives, remaining);
        Tensor classes = positives;
        Tensor? correction = null;
        if (drawn > 0)
        {
            Tensor isCandidate = ones(NumClasses, dtype: ScalarType.Bool, device: labels.device).index_fill(0, positives, false);
            Tensor candidates = isCandidate.nonzero().squeeze(1);
            Tensor negatives = candidates.index_select(0, tensor(Draw(remaining, drawn), device: labels.device));
            classes = cat([positives, negatives], 0);
            double logInclusion = Math.Log((double)drawn / remaining);
            correction = cat([zeros(positiveCount, embeddings.dtype, embeddings.device), full(drawn, logInclusion, embeddings.dtype, embeddings.device)], 0);
        }
        Tensor logits = Distance.Pairwise(embeddings, WeightLike(embeddings).index_select(0, classes));
        if (correction is not null) logits = logits - correction;
        return (logits, targets!);
    }

    // Floyd's algorithm: `count` distinct values of 0..population−1 in O(count) time, whatever the population.
    private long[] Draw(long population, long count)
    {
        var chosen = new HashSet<long>();
        var order = new long[count];
        int next = 0;
        for (long j = population - count; j < population; j++)
        {
            long candidate = _random.NextInt64(j + 1);
            long pick = chosen.Contains(candidate) ? j : candidate;
            chosen.Add(pick);
            order[next++] = pick;
        }
        return order;
    }
}
