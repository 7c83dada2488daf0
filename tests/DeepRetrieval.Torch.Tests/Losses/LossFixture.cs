using DeepRetrieval.Torch.Miners;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Losses;

/// <summary>
/// The fixed float64 batch that the pytorch-metric-learning reference values were computed on. The same literals are in
/// this python snippet (PML 2.8.1 with Debian's PyTorch 1.13; scipy and tqdm are only imported, so stubs do):
/// <code>
/// import sys, types
/// for m in ["scipy", "scipy.stats", "scipy.special", "tqdm"]: sys.modules.setdefault(m, types.ModuleType(m))
/// sys.modules["tqdm"].tqdm = lambda *a, **k: None
/// sys.modules["scipy"].special = sys.modules["scipy.special"]; sys.modules["scipy"].stats = sys.modules["scipy.stats"]
/// import torch
/// from pytorch_metric_learning import losses, distances
/// torch.set_default_dtype(torch.float64)
/// E = torch.tensor([[0.9,0.1,-0.3,0.2],[0.7,0.4,0.1,-0.2],[-0.5,0.8,0.3,0.1],[-0.2,0.6,-0.4,0.5],[0.1,-0.7,0.6,0.3],[0.3,0.2,0.9,-0.6],[-0.8,-0.3,0.2,0.4],[0.5,-0.5,-0.5,0.5]])
/// L = torch.tensor([0,0,1,1,1,2,2,0])
/// R = torch.tensor([[0.2,0.9,-0.1,0.3],[-0.6,0.1,0.7,0.2],[0.4,0.4,0.4,-0.7],[0.8,-0.2,0.1,0.1],[-0.3,-0.8,0.2,-0.4]])
/// RL = torch.tensor([1,2,0,3,0])
/// T3 = (torch.tensor([0,2,5,7]), torch.tensor([1,3,6,0]), torch.tensor([4,0,2,3]))
/// T4 = (torch.tensor([0,2,2,6]), torch.tensor([1,4,3,5]), torch.tensor([0,0,2,6,6]), torch.tensor([5,2,7,1,3]))
/// # e.g. losses.TripletMarginLoss(margin=0.5)(E, L, None, R, RL).item(); losses.NTXentLoss(temperature=0.5)(E, L, T4).item()
/// </code>
/// </summary>
internal static class LossFixture
{
    public static Tensor Embeddings() => tensor(new double[,]
    {
        { 0.9, 0.1, -0.3, 0.2 }, { 0.7, 0.4, 0.1, -0.2 }, { -0.5, 0.8, 0.3, 0.1 }, { -0.2, 0.6, -0.4, 0.5 },
        { 0.1, -0.7, 0.6, 0.3 }, { 0.3, 0.2, 0.9, -0.6 }, { -0.8, -0.3, 0.2, 0.4 }, { 0.5, -0.5, -0.5, 0.5 },
    });

    public static Tensor Labels() => tensor(new long[] { 0, 0, 1, 1, 1, 2, 2, 0 });

    public static Tensor Reference() => tensor(new double[,]
    {
        { 0.2, 0.9, -0.1, 0.3 }, { -0.6, 0.1, 0.7, 0.2 }, { 0.4, 0.4, 0.4, -0.7 }, { 0.8, -0.2, 0.1, 0.1 }, { -0.3, -0.8, 0.2, -0.4 },
    });

    public static Tensor ReferenceLabels() => tensor(new long[] { 1, 2, 0, 3, 0 });

    public static TripletTuples Triplets() => new(tensor(new long[] { 0, 2, 5, 7 }), tensor(new long[] { 1, 3, 6, 0 }), tensor(new long[] { 4, 0, 2, 3 }));

    public static PairTuples Pairs() => new(tensor(new long[] { 0, 2, 2, 6 }), tensor(new long[] { 1, 4, 3, 5 }), tensor(new long[] { 0, 0, 2, 6, 6 }), tensor(new long[] { 5, 2, 7, 1, 3 }));

    /// <summary>The loss's value on the fixture, optionally with tuples or the reference set.</summary>
    public static double Value(DeepRetrieval.Torch.Losses.MetricLoss loss, IndexTuples? tuples = null, bool withReference = false) =>
        withReference
            ? loss.forward(Embeddings(), Labels(), tuples, Reference(), ReferenceLabels()).item<double>()
            : loss.forward(Embeddings(), Labels(), tuples).item<double>();
}
