using DeepRetrieval.Torch.Distances;
using DeepRetrieval.Torch.Losses;
using DeepRetrieval.Torch.Miners;
using DeepRetrieval.Torch.Reducers;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Losses;

public class CrossBatchMemoryTests
{
    /// <summary>Records what the memory hands to its loss; the value is the sum of the anchors' coordinates.</summary>
    private sealed class RecordingLoss() : MetricLoss("Recording", new LpDistance(normalizeEmbeddings: false), new SumReducer())
    {
        public LossInput? Last { get; private set; }

        protected override IEnumerable<LossTerms> ComputeTerms(LossInput input)
        {
            Last = input;
            yield return new LossTerms(input.Embeddings.sum(1), LossTermKind.Element);
        }
    }

    private static Tensor Points(params double[] xs) => tensor(xs, [xs.Length, 1], ScalarType.Float64);

    private static Tensor Labels(params long[] labels) => tensor(labels);

    private static double[] D(Tensor t) => t.flatten().data<double>().ToArray();

    private static long[] L(Tensor t) => t.data<long>().ToArray();

    [Fact]
    public void Memory_IsARingBuffer_ThatWrapsAroundInFifoOrder()
    {
        using var scope = NewDisposeScope();
        using var memory = new CrossBatchMemory(new RecordingLoss(), embeddingSize: 1, memorySize: 5);
        memory.call(Points(1, 2), Labels(0, 1));
        memory.call(Points(3, 4), Labels(0, 1));
        memory.Count.Should().Be(4);
        memory.IsFilled.Should().BeFalse();
        D(memory.MemoryEmbeddings()).Should().Equal(1, 2, 3, 4);

        memory.call(Points(5, 6), Labels(2, 2));   // slots 4 and 0
        memory.IsFilled.Should().BeTrue();
        memory.QueueIndex.Should().Be(1);
        D(memory.MemoryEmbeddings()).Should().Equal(6, 2, 3, 4, 5);
        L(memory.MemoryLabels()).Should().Equal(2, 1, 0, 1, 2);

        memory.call(Points(7, 8, 9), Labels(3, 3, 3));   // slots 1, 2, 3
        D(memory.MemoryEmbeddings()).Should().Equal(6, 7, 8, 9, 5);
        memory.QueueIndex.Should().Be(4);

        memory.ResetQueue();
        memory.Count.Should().Be(0);
        memory.call(Points(10), Labels(4));
        D(memory.MemoryEmbeddings()).Should().Equal(10);
    }

    [Fact]
    public void Memory_CountsAsFilled_WhenABatchEndsExactlyAtTheLastSlot()
    {
        using var scope = NewDisposeScope();
        using var memory = new CrossBatchMemory(new RecordingLoss(), embeddingSize: 1, memorySize: 4);
        memory.call(Points(1, 2), Labels(0, 0));
        memory.call(Points(3, 4), Labels(0, 0));
        memory.IsFilled.Should().BeTrue();
        memory.QueueIndex.Should().Be(0);
        memory.Count.Should().Be(4);
    }

    [Fact]
    public void Loss_SeesTheBatchAgainstTheMemory_WithoutPairsOfAnElementAndItsOwnSlot()
    {
        using var scope = NewDisposeScope();
        var loss = new RecordingLoss();
        using var memory = new CrossBatchMemory(loss, embeddingSize: 1, memorySize: 3);
        memory.call(Points(1, 2), Labels(0, 0));   // slots 0, 1
        var first = (PairTuples)loss.Last!.Tuples!;
        L(first.PositiveAnchors).Should().Equal(0, 1);
        L(first.Positives).Should().Equal(1, 0);
        first.NegativeCount.Should().Be(0);

        memory.call(Points(3, 4), Labels(0, 1));   // slots 2, 0 → memory [4, 2, 3], labels [1, 0, 0]
        LossInput input = loss.Last!;
        input.ReferenceIsBatch.Should().BeFalse();
        D(input.ReferenceEmbeddings).Should().Equal(4, 2, 3);
        var pairs = (PairTuples)input.Tuples!;
        // Anchor 0 (slot 2) keeps reference 1 but not itself; anchor 1's only positive is its own slot 0.
        L(pairs.PositiveAnchors).Should().Equal(0);
        L(pairs.Positives).Should().Equal(1);
        L(pairs.NegativeAnchors).Should().Equal(0, 1, 1);
        L(pairs.Negatives).Should().Equal(0, 1, 2);
    }

    [Fact]
    public void Miner_MinesAgainstTheMemory_AndSelfTripletsAreDropped()
    {
        using var scope = NewDisposeScope();
        var loss = new RecordingLoss();
        using var memory = new CrossBatchMemory(loss, embeddingSize: 1, memorySize: 4, miner: new BatchHardMiner(new LpDistance(normalizeEmbeddings: false)));
        memory.call(Points(0, 1, 5), Labels(0, 0, 1));
        // Anchor 0: hardest positive slot 1, closest negative slot 2. Anchor 1: slot 0 and slot 2. Anchor 2's only positive is itself.
        var t = (TripletTuples)loss.Last!.Tuples!;
        L(t.Anchors).Should().Equal(0, 1);
        L(t.Positives).Should().Equal(1, 0);
        L(t.Negatives).Should().Equal(2, 2);
    }

    [Fact]
    public void FirstBatch_GivesTheSameValueAsTheLossOnTheBatchAlone()
    {
        using var scope = NewDisposeScope();
        Tensor x = randn(new long[] { 12, 4 }, dtype: ScalarType.Float64, generator: new TorchSharp.torch.Generator(3));
        Tensor labels = Labels(0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 3, 4);
        foreach (MetricLoss loss in new MetricLoss[] { new SmoothAPLoss(0.1), new FastAPLoss() })
        {
            using var memory = new CrossBatchMemory(loss, embeddingSize: 4, memorySize: 32);
            memory.call(x, labels).item<double>().Should().BeApproximately(loss.call(x, labels).item<double>(), 1e-12, loss.GetName());
        }
    }

    [Fact]
    public void Memory_IsDetached_AndSurvivesTheDisposeScopeThatFilledIt()
    {
        using var memory = new CrossBatchMemory(new SmoothAPLoss(0.1), embeddingSize: 2, memorySize: 8);
        using (NewDisposeScope())
        {
            Tensor x = tensor(new double[] { 1, 0, 0.9, 0.1, 0, 1, 0.1, 0.9 }, [4, 2]).requires_grad_(true);
            memory.call(x, Labels(0, 0, 1, 1)).backward();
            x.grad!.abs().sum().item<double>().Should().BeGreaterThan(0);
        }
        using (NewDisposeScope())
        {
            Tensor y = tensor(new double[] { 0.8, 0.2, 0.2, 0.8 }, [2, 2]).requires_grad_(true);
            Tensor value = memory.call(y, Labels(0, 1));
            value.backward();
            y.grad!.abs().sum().item<double>().Should().BeGreaterThan(0);
            memory.MemoryEmbeddings().requires_grad.Should().BeFalse();
            D(memory.MemoryEmbeddings()).Should().Equal(1, 0, 0.9, 0.1, 0, 1, 0.1, 0.9, 0.8, 0.2, 0.2, 0.8);
        }
    }

    [Fact]
    public void Forward_RejectsBadBatches_WithoutTouchingTheMemory()
    {
        using var scope = NewDisposeScope();
        using var memory = new CrossBatchMemory(new RecordingLoss(), embeddingSize: 1, memorySize: 2);
        var tooBig = () => memory.call(Points(1, 2, 3), Labels(0, 0, 0));
        tooBig.Should().Throw<ArgumentException>().WithMessage("*does not fit*");
        var width = () => memory.call(zeros(2, 3, dtype: ScalarType.Float64), Labels(0, 0));
        width.Should().Throw<ArgumentException>().WithMessage("*batch × 1*");
        var nan = () => memory.call(Points(double.NaN), Labels(0));
        nan.Should().Throw<ArgumentException>().WithMessage("*NaN*");
        var count = () => memory.call(Points(1, 2), Labels(0));
        count.Should().Throw<ArgumentException>().WithMessage("*2 embeddings but 1 labels*");
        memory.Count.Should().Be(0);
        var size = () => new CrossBatchMemory(new RecordingLoss(), embeddingSize: 1, memorySize: 0);
        size.Should().Throw<ArgumentOutOfRangeException>();
    }

    /*
     PML 2.8.1 CrossBatchMemory, recording the tuples it hands to its loss (PYTHONPATH=/work/pml/src /usr/bin/python3,
     scipy and tqdm stubbed; the subclass keeps the name ContrastiveLoss because PML checks the loss's class name):
import torch
from pytorch_metric_learning import losses, miners
torch.set_default_dtype(torch.float64)
E = torch.tensor([0.07, 0.05, 1.84, 1.37, 1.12, 1.86, 0.6, 0.74, -0.81, -0.8, 0.77, 0.52, 1.96, 0.45, -0.1, -0.25, -1.27, 1.28, -0.56, -0.34, 0.11, 0.16, -1.23, 0.35, 0.67, -0.94, 0.73, 0.04, 0.64, 0.32]).view(10, 3)
L = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 3, 3])
class ContrastiveLoss(losses.ContrastiveLoss):
    def forward(self, emb, labels, indices_tuple=None, ref_emb=None, ref_labels=None):
        self.last = indices_tuple
        return super().forward(emb, labels, indices_tuple, ref_emb, ref_labels)
def fmt(out):
    if len(out) == 3:
        rows = sorted(zip(*[x.tolist() for x in out])); return "triplets " + str(rows)
    p = sorted(zip(out[0].tolist(), out[1].tolist())); n = sorted(zip(out[2].tolist(), out[3].tolist()))
    return "pairs " + str(p) + " " + str(n)
for name, miner in [("none", None), ("ms", miners.MultiSimilarityMiner(0.1)), ("hard", miners.BatchHardMiner())]:
    rec = ContrastiveLoss(); xbm = losses.CrossBatchMemory(rec, embedding_size=3, memory_size=7, miner=miner)
    for s, e in [(0, 4), (4, 8), (6, 10)]:
        xbm(E[s:e], L[s:e]); print(name, s, fmt(rec.last))
    */
    private static readonly string[] PmlMemoryTuples =
    [
        "none 0 pairs [(0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1)] [(0, 3), (1, 3), (2, 3), (3, 0), (3, 1), (3, 2)]",
        "none 4 pairs [(0, 3), (0, 5), (1, 3), (1, 4), (2, 0), (3, 6)] [(0, 0), (0, 1), (0, 2), (0, 6), (1, 0), (1, 1), (1, 2), (1, 6), (2, 1), (2, 2), (2, 3), (2, 4), (2, 5), (3, 1), (3, 2), (3, 3), (3, 4), (3, 5)]",
        "none 6 pairs [(0, 0), (0, 2), (0, 6), (1, 0), (1, 1), (1, 6), (2, 4), (3, 3)] [(0, 3), (0, 4), (0, 5), (1, 3), (1, 4), (1, 5), (2, 0), (2, 1), (2, 2), (2, 5), (2, 6), (3, 0), (3, 1), (3, 2), (3, 5), (3, 6)]",
        "ms 0 pairs [(0, 2), (1, 2), (2, 0)] [(0, 3), (1, 3), (2, 3)]",
        "ms 4 pairs [(0, 3), (0, 5), (1, 3), (1, 4), (2, 0), (3, 6)] [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 6), (2, 5), (3, 5)]",
        "ms 6 pairs [(0, 0), (0, 2), (1, 1), (1, 6), (2, 4), (3, 3)] [(0, 5), (1, 3), (1, 5), (2, 0), (2, 1), (2, 2), (2, 5), (2, 6), (3, 1), (3, 5), (3, 6)]",
        "hard 0 triplets [(0, 2, 3), (1, 2, 3), (2, 0, 3)]",
        "hard 4 triplets [(0, 3, 2), (1, 4, 0), (2, 0, 5), (3, 6, 5)]",
        "hard 6 triplets [(0, 0, 5), (1, 1, 3), (2, 4, 0), (3, 3, 5)]",
    ];

    private static string Python(IEnumerable<(long, long)> rows) => "[" + string.Join(", ", rows.Order().Select(r => $"({r.Item1}, {r.Item2})")) + "]";

    private static string Format(IndexTuples tuples) => tuples switch
    {
        PairTuples p => "pairs " + Python(L(p.PositiveAnchors).Zip(L(p.Positives))) + " " + Python(L(p.NegativeAnchors).Zip(L(p.Negatives))),
        TripletTuples t => "triplets [" + string.Join(", ", L(t.Anchors).Zip(L(t.Positives), L(t.Negatives)).Order().Select(r => $"({r.First}, {r.Second}, {r.Third})")) + "]",
        _ => throw new InvalidOperationException(),
    };

    [Fact]
    public void TuplesHandedToTheLoss_AgreeWithPml_OverThreeBatchesThatWrapTheMemory()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { 0.07, 0.05, 1.84, 1.37, 1.12, 1.86, 0.6, 0.74, -0.81, -0.8, 0.77, 0.52, 1.96, 0.45, -0.1, -0.25, -1.27, 1.28, -0.56, -0.34, 0.11, 0.16, -1.23, 0.35, 0.67, -0.94, 0.73, 0.04, 0.64, 0.32 }, [10, 3]);
        Tensor labels = Labels(0, 0, 0, 1, 1, 1, 2, 2, 3, 3);
        var actual = new List<string>();
        foreach ((string name, IMiner? miner) in new (string, IMiner?)[] { ("none", null), ("ms", new MultiSimilarityMiner(0.1)), ("hard", new BatchHardMiner()) })
        {
            var loss = new RecordingLoss();
            using var memory = new CrossBatchMemory(loss, embeddingSize: 3, memorySize: 7, miner);
            foreach ((int start, int end) in new[] { (0, 4), (4, 8), (6, 10) })
            {
                memory.call(x[start..end], labels[start..end]);
                actual.Add($"{name} {start} {Format(loss.Last!.Tuples!)}");
            }
        }
        actual.Should().Equal(PmlMemoryTuples);
    }

    /*
     PML 2.8.1 CrossBatchMemory with enqueue_mask (same setup and stubs as above):
import torch
from pytorch_metric_learning import losses, miners
torch.set_default_dtype(torch.float64)
E = torch.tensor([0.07, 0.05, 1.84, 1.37, 1.12, 1.86, 0.6, 0.74, -0.81, -0.8, 0.77, 0.52, 1.96, 0.45, -0.1, -0.25, -1.27, 1.28, -0.56, -0.34, 0.11, 0.16, -1.23, 0.35, 0.67, -0.94, 0.73, 0.04, 0.64, 0.32]).view(10, 3)
L = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 3, 3])
class ContrastiveLoss(losses.ContrastiveLoss):
    def forward(self, emb, labels, indices_tuple=None, ref_emb=None, ref_labels=None):
        self.last = indices_tuple
        return super().forward(emb, labels, indices_tuple, ref_emb, ref_labels)
def fmt(out):
    p = sorted(zip(out[0].tolist(), out[1].tolist())); n = sorted(zip(out[2].tolist(), out[3].tolist()))
    return "pairs " + str(p) + " " + str(n)
mask = torch.tensor([False, True, False, True])
for name, miner in [("none", None), ("ms", miners.MultiSimilarityMiner(0.1))]:
    rec = ContrastiveLoss(); xbm = losses.CrossBatchMemory(rec, embedding_size=3, memory_size=3, miner=miner)
    for s, e in [(0, 4), (4, 8), (6, 10)]:
        xbm(E[s:e], L[s:e], enqueue_mask=mask); print(name, s, fmt(rec.last), xbm.queue_idx, xbm.has_been_filled)
    */
    private static readonly string[] PmlMaskedMemoryTuples =
    [
        "none 0 pairs [(0, 0), (1, 0)] [(0, 1), (1, 1)] 2 False",
        "none 4 pairs [(0, 1), (0, 2), (1, 0)] [(0, 0), (1, 1), (1, 2)] 1 True",
        "none 6 pairs [(0, 0), (0, 1), (1, 2)] [(0, 2), (1, 0), (1, 1)] 0 True",
        "ms 0 pairs [] [] 2 False",
        "ms 4 pairs [(0, 1), (0, 2), (1, 0)] [(0, 0), (1, 2)] 1 True",
        "ms 6 pairs [(1, 2)] [(1, 0), (1, 1)] 0 True",
    ];

    [Fact]
    public void EnqueueMask_EnqueuesOnlyMaskedRows_AndUsesTheOthersAsAnchors_AsPml()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { 0.07, 0.05, 1.84, 1.37, 1.12, 1.86, 0.6, 0.74, -0.81, -0.8, 0.77, 0.52, 1.96, 0.45, -0.1, -0.25, -1.27, 1.28, -0.56, -0.34, 0.11, 0.16, -1.23, 0.35, 0.67, -0.94, 0.73, 0.04, 0.64, 0.32 }, [10, 3]);
        Tensor labels = Labels(0, 0, 0, 1, 1, 1, 2, 2, 3, 3);
        Tensor mask = tensor(new[] { false, true, false, true });
        var actual = new List<string>();
        foreach ((string name, IMiner? miner) in new (string, IMiner?)[] { ("none", null), ("ms", new MultiSimilarityMiner(0.1)) })
        {
            var loss = new RecordingLoss();
            using var memory = new CrossBatchMemory(loss, embeddingSize: 3, memorySize: 3, miner);
            foreach ((int start, int end) in new[] { (0, 4), (4, 8), (6, 10) })
            {
                memory.forward(x[start..end], labels[start..end], mask);
                actual.Add($"{name} {start} {Format(loss.Last!.Tuples!)} {memory.QueueIndex} {(memory.IsFilled ? "True" : "False")}");
            }
        }
        actual.Should().Equal(PmlMaskedMemoryTuples);
    }

    [Fact]
    public void EnqueueMask_WithNothingToEnqueue_LeavesTheMemoryUnfilled()
    {
        using var scope = NewDisposeScope();
        using var memory = new CrossBatchMemory(new RecordingLoss(), embeddingSize: 1, memorySize: 3);
        memory.forward(Points(1, 2), Labels(0, 0), tensor(new[] { true, false }));
        memory.forward(Points(3, 4), Labels(0, 0), tensor(new[] { false, false }));
        memory.IsFilled.Should().BeFalse();
        D(memory.MemoryEmbeddings()).Should().Equal(1);
        var wrongMask = () => memory.forward(Points(3, 4), Labels(0, 0), tensor(new long[] { 1, 0 }));
        wrongMask.Should().Throw<ArgumentException>().WithMessage("*enqueue mask*");
    }
}
