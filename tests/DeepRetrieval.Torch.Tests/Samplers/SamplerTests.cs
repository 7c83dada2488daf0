using DeepRetrieval.Torch.Samplers;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Samplers;

public class SamplerTests
{
    // Expected batches come from this Python transcription of the documented algorithms (run with any Python 3):
    //   M64 = (1 << 64) - 1
    //   class SplitMix64:
    //       def __init__(self, state): self.s = state & M64
    //       def next(self):
    //           self.s = (self.s + 0x9E3779B97F4A7C15) & M64; z = self.s
    //           z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64; z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    //           return z ^ (z >> 31)
    //       def below(self, n): return self.next() % n
    //   def groups(labels):
    //       d = {}
    //       for i, l in enumerate(labels): d.setdefault(l, []).append(i)
    //       keys = sorted(d); return keys, [d[k] for k in keys]
    //   def mper(labels, m, bs, length, seed, epoch):
    //       r = SplitMix64((epoch << 32) | seed); keys, idx = groups(labels); order = list(range(len(keys))); out = []
    //       for _ in range(length // bs):
    //           for i in range(len(order) - 1, 0, -1):
    //               j = r.below(i + 1); order[i], order[j] = order[j], order[i]
    //           batch = []
    //           for c in order[:bs // m]:
    //               mem = idx[c]
    //               if len(mem) >= m:
    //                   s = list(mem)
    //                   for t in range(m):
    //                       j = t + r.below(len(mem) - t); s[t], s[j] = s[j], s[t]; batch.append(s[t])
    //               else:
    //                   for t in range(m): batch.append(mem[r.below(len(mem))])
    //           out.append(batch)
    //       return out
    //   def balanced(labels, bs, n, seed, epoch):
    //       r = SplitMix64((epoch << 32) | seed); keys, idx = groups(labels); out = []
    //       for start in range(0, n, bs):
    //           b = []
    //           for _ in range(min(bs, n - start)):
    //               mem = idx[r.below(len(idx))]; b.append(mem[r.below(len(mem))])
    //           out.append(b)
    //       return out
    //   mper([0,0,0,1,1,2,2,2,2,3], 2, 4, 12, 7, 0)  → [[4, 3, 6, 7], [4, 3, 7, 5], [2, 0, 5, 7]]
    //   mper([0,0,0,1,1,2,2,2,2,3], 2, 4, 12, 7, 1)  → [[7, 8, 3, 4], [1, 2, 3, 4], [5, 7, 9, 9]]
    //   balanced([0,0,0,0,1,2,2], 3, 7, 3, 0)        → [[1, 3, 3], [2, 5, 3], [4]]
    private static readonly long[] TinyLabels = [0, 0, 0, 1, 1, 2, 2, 2, 2, 3];

    [Fact]
    public void SplitMix64_MatchesTheReferenceOutputs()
    {
        // Vigna's splitmix64.c started at 0.
        var random = new SplitMix64(0);
        random.Next().Should().Be(0xE220A8397B1DCDAFUL);
        random.Next().Should().Be(0x6E789E6AA1B965F4UL);
        random.Next().Should().Be(0x06C45D188009454FUL);
    }

    [Fact]
    public void MPerClass_ProducesTheDocumentedBatches_ForAFixedSeedAndEpoch()
    {
        var sampler = new MPerClassSampler(TinyLabels, m: 2, batchSize: 4, lengthBeforeNewIter: 12, seed: 7);
        sampler.Batches().Should().BeEquivalentTo(new long[][] { [4, 3, 6, 7], [4, 3, 7, 5], [2, 0, 5, 7] }, o => o.WithStrictOrdering());
        sampler.SetEpoch(1);
        // Class 3 has one image, so m = 2 draws repeat it (index 9 twice in the last batch).
        sampler.Batches().Should().BeEquivalentTo(new long[][] { [7, 8, 3, 4], [1, 2, 3, 4], [5, 7, 9, 9] }, o => o.WithStrictOrdering());
        sampler.ToArray().Should().Equal(7, 8, 3, 4, 1, 2, 3, 4, 5, 7, 9, 9);
    }

    [Fact]
    public void MPerClass_EveryBatchHasPClassesWithKImagesEach_WithoutRepeatsWhenClassesAreLargeEnough()
    {
        var random = new Random(3);
        long[] labels = Enumerable.Range(0, 300).Select(_ => (long)random.Next(20)).ToArray();
        var sampler = new MPerClassSampler(labels, m: 4, batchSize: 32, lengthBeforeNewIter: 1000, seed: 11);
        sampler.BatchCount.Should().Be(31);
        sampler.Length.Should().Be(992);
        int batches = 0;
        foreach (long[] batch in sampler.Batches())
        {
            batches++;
            batch.Should().HaveCount(32);
            var byClass = batch.GroupBy(i => labels[i]).ToArray();
            byClass.Should().HaveCount(8);
            byClass.Should().OnlyContain(g => g.Count() == 4);
            batch.Should().OnlyHaveUniqueItems("every class has at least 4 images, so images are drawn without replacement");
        }
        batches.Should().Be(31);
    }

    [Fact]
    public void MPerClass_IsReproducible_DiffersWithSeedOrEpoch_AndResumesAtAnEpoch()
    {
        long[] labels = Enumerable.Range(0, 60).Select(i => (long)(i % 6)).ToArray();
        long[][] Run(int seed, int epoch)
        {
            var sampler = new MPerClassSampler(labels, 2, 6, 60, seed);
            sampler.SetEpoch(epoch);
            return sampler.Batches().ToArray();
        }
        Run(1, 0).Should().BeEquivalentTo(Run(1, 0), o => o.WithStrictOrdering());
        Run(2, 0).SelectMany(b => b).Should().NotEqual(Run(1, 0).SelectMany(b => b));
        Run(1, 1).SelectMany(b => b).Should().NotEqual(Run(1, 0).SelectMany(b => b));

        var original = new MPerClassSampler(labels, 2, 6, 60, 1);
        original.SetEpoch(3);
        long[] beforeInterruption = original.ToArray();
        original.ToArray().Should().Equal(beforeInterruption, "enumerating an epoch twice repeats it");
        Run(1, 3).SelectMany(b => b).Should().Equal(beforeInterruption, "a new sampler set to the same epoch resumes identically");
    }

    [Fact]
    public void MPerClass_RejectsImpossibleSettings_WithClearMessages()
    {
        var notMultiple = () => new MPerClassSampler(TinyLabels, m: 3, batchSize: 8);
        notMultiple.Should().Throw<ArgumentException>().WithMessage("*batch size 8 is not a multiple of m = 3*");
        var tooFewClasses = () => new MPerClassSampler(TinyLabels, m: 2, batchSize: 10);
        tooFewClasses.Should().Throw<ArgumentException>().WithMessage("*needs 5 distinct classes*only 4*");
        var shortEpoch = () => new MPerClassSampler(TinyLabels, m: 2, batchSize: 4, lengthBeforeNewIter: 3);
        shortEpoch.Should().Throw<ArgumentOutOfRangeException>();
        var empty = () => new MPerClassSampler([], m: 2, batchSize: 4);
        empty.Should().Throw<ArgumentException>().WithMessage("*empty*");
        var badEpoch = () => new MPerClassSampler(TinyLabels, 2, 4).SetEpoch(-1);
        badEpoch.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void ClassBalanced_ProducesTheDocumentedBatches_WithAShortLastBatch()
    {
        var sampler = new ClassBalancedSampler([0, 0, 0, 0, 1, 2, 2], batchSize: 3, seed: 3);
        sampler.BatchCount.Should().Be(3);
        sampler.Batches().Should().BeEquivalentTo(new long[][] { [1, 3, 3], [2, 5, 3], [4] }, o => o.WithStrictOrdering());
        var dropped = new ClassBalancedSampler([0, 0, 0, 0, 1, 2, 2], batchSize: 3, dropLast: true, seed: 3);
        dropped.Batches().Should().BeEquivalentTo(new long[][] { [1, 3, 3], [2, 5, 3] }, o => o.WithStrictOrdering());
    }

    [Fact]
    public void ClassBalanced_DrawsEveryClassEquallyOften_DespiteImbalance()
    {
        // 90 images of class 0, 10 of class 1: uniform sampling would give 90 % / 10 %, balanced sampling 50 % / 50 %.
        long[] labels = Enumerable.Range(0, 100).Select(i => i < 90 ? 0L : 1L).ToArray();
        var sampler = new ClassBalancedSampler(labels, batchSize: 100, samplesPerEpoch: 20_000, seed: 5);
        long[] drawn = sampler.ToArray();
        drawn.Should().HaveCount(20_000);
        double shareOfRareClass = drawn.Count(i => labels[i] == 1) / 20_000.0;
        shareOfRareClass.Should().BeApproximately(0.5, 0.02);
        drawn.Where(i => labels[i] == 1).Distinct().Should().HaveCount(10, "every rare image is reached");
    }

    [Fact]
    public void Samplers_PlugIntoTorchSharpDataLoader_AsItsIndexStream()
    {
        using var scope = NewDisposeScope();
        var sampler = new MPerClassSampler(TinyLabels, m: 2, batchSize: 4, lengthBeforeNewIter: 12, seed: 7);
        using var dataset = utils.data.TensorDataset(arange(10, ScalarType.Int64));
        using var loader = utils.data.DataLoader(dataset, sampler.BatchSize, sampler, drop_last: true, disposeDataset: false);
        var seen = new List<long[]>();
        foreach (IList<Tensor> batch in loader) seen.Add(batch[0].data<long>().ToArray());
        seen.Should().BeEquivalentTo(sampler.Batches(), o => o.WithStrictOrdering());
    }
}
