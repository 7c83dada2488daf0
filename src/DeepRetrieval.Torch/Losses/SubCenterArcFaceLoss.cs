using DeepRetrieval.Torch.Distances;
using DeepRetrieval.Torch.Reducers;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// Sub-center ArcFace (Deng et al. 2020, "Sub-center ArcFace: Boosting Face Recognition by Large-Scale Noisy Web Faces"; PML
/// <c>SubCenterArcFaceLoss</c>): each class has K sub-centres; the class cosine is the largest over its sub-centres,
/// <c>cos θ_c = max_k cos(x, w_{c,k})</c>, and the loss is <see cref="ArcFaceLoss"/> on those cosines. Noisy examples gather on
/// non-dominant sub-centres instead of pulling the class centre. <see cref="ClassifierLoss.Weight"/> has C·K rows; row c·K + k is
/// sub-centre k of class c (PML's column order). Margin in RADIANS (PML: degrees, 28.6° ≈ 0.4992 rad), s = 64, K = 3.
/// </summary>
public sealed class SubCenterArcFaceLoss : ClassifierLoss
{
    /// <summary>Creates the loss; W is drawn from N(0, 1) as PML.</summary>
    /// <param name="numClasses">C.</param>
    /// <param name="embeddingSize">d.</param>
    /// <param name="subCenters">K ≥ 1 sub-centres per class.</param>
    /// <param name="margin">m in radians, in [0, π).</param>
    /// <param name="scale">s &gt; 0.</param>
    /// <param name="easyMargin">Apply the margin only where cos θ &gt; 0.</param>
    /// <param name="criterion">The loss on the logits; null is softmax cross-entropy.</param>
    /// <param name="reducer">Null is the mean.</param>
    /// <exception cref="ArgumentOutOfRangeException">K is below 1, the margin is outside [0, π) or the scale is not positive.</exception>
    public SubCenterArcFaceLoss(int numClasses, int embeddingSize, int subCenters = 3, double margin = 0.5, double scale = 64, bool easyMargin = false,
        LogitLoss? criterion = null, LossReducer? reducer = null)
        : base(nameof(SubCenterArcFaceLoss), numClasses, embeddingSize, (long)numClasses * Math.Max(1, subCenters), 1, new CosineSimilarity(), criterion, reducer)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(subCenters, 1);
        ArcFaceLoss.CheckMarginAndScale(margin, scale);
        SubCenters = subCenters;
        Margin = margin;
        Scale = scale;
        EasyMargin = easyMargin;
    }

    /// <summary>K, sub-centres per class.</summary>
    public int SubCenters { get; }

    /// <summary>m, the additive angular margin in radians.</summary>
    public double Margin { get; }

    /// <summary>s, the scale of the logits.</summary>
    public double Scale { get; }

    /// <summary>Whether the margin applies only where cos θ &gt; 0.</summary>
    public bool EasyMargin { get; }

    /// <summary>For each embedding, the index 0..K−1 of the sub-centre of <paramref name="labels"/>' class it is closest to.</summary>
    /// <param name="embeddings">n × d embeddings.</param>
    /// <param name="labels">n labels in 0..C−1.</param>
    /// <exception cref="ArgumentException">Shapes do not match or a label is out of range.</exception>
    public Tensor DominantSubCenters(Tensor embeddings, Tensor labels)
    {
        CheckEmbeddings(embeddings);
        Tensor classes = LogitLoss.CheckLabelRange(labels, NumClasses, nameof(labels));
        if (classes.shape[0] != embeddings.shape[0])
            throw new ArgumentException($"There are {embeddings.shape[0]} embeddings but {classes.shape[0]} labels.", nameof(labels));
        using var noGrad = no_grad();
        Tensor perSubCenter = SubCenterCosines(embeddings);
        Tensor index = classes.view(-1, 1, 1).expand(-1, 1, SubCenters);
        return perSubCenter.gather(1, index).squeeze(1).argmax(1);
    }

    /// <inheritdoc />
    protected override Tensor ComputeLogits(Tensor embeddings) => ClassCosines(embeddings) * Scale;

    /// <inheritdoc />
    protected override (Tensor Logits, Tensor Targets) ComputeTrainingLogits(Tensor embeddings, Tensor labels)
    {
        Tensor cosine = ClassCosines(embeddings);
        Tensor target = ArcFaceLoss.AngularMargin(TargetValues(cosine, labels), Margin, EasyMargin);
        return (ReplaceTargets(cosine, labels, target) * Scale, labels);
    }

    private Tensor SubCenterCosines(Tensor embeddings) => CosineToWeights(embeddings).view(-1, NumClasses, SubCenters);

    private Tensor ClassCosines(Tensor embeddings) => SubCenterCosines(embeddings).max(2).values;
}
