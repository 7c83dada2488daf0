using DeepRetrieval.Torch.Pooling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Aggregation;

/// <summary>
/// The NetVLAD pooling layer (Arandjelović, Gronat, Torii, Pajdla &amp; Sivic, "NetVLAD: CNN architecture for weakly
/// supervised place recognition", CVPR 2016): a differentiable VLAD whose hard assignment is replaced by a soft one,
/// <c>āₖ(xᵢ) = softmaxₖ(wₖᵀxᵢ + bₖ)</c>, so that <c>V(k) = Σᵢ āₖ(xᵢ)(xᵢ − cₖ)</c> can be trained end to end. The K × D
/// residual sums are intra-normalised (L2 per cluster), flattened and L2-normalised. N × D × H × W in, N × (K·D) out.
/// </summary>
/// <remarks>
/// <para>Parameters follow the widely used PyTorch port (Nanne/pytorch-NetVlad): <c>conv.weight</c> (K × D × 1 × 1),
/// <c>conv.bias</c> (K) and <c>centroids</c> (K × D). With <see cref="NormalizeInput"/> each input descriptor is first
/// L2-normalised, as in the paper.</para>
/// <para><see cref="InitializeFromCentroids"/> sets the paper's initialisation from k-means centres cₖ (for example a
/// core <c>VisualVocabulary</c> of the same features): wₖ = 2α cₖ, bₖ = −α‖cₖ‖², which for large α makes the soft
/// assignment the hard nearest-centre one (for unit-length inputs), so NetVLAD starts as VLAD with intra-normalisation.</para>
/// </remarks>
public sealed class NetVLAD : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly Parameter centroids;

    /// <summary>Creates the layer with random centres and assignment weights (PyTorch's default convolution initialisation).</summary>
    /// <param name="clusters">K, the number of clusters; positive.</param>
    /// <param name="dimension">D, the channels of the input maps; positive.</param>
    /// <param name="normalizeInput">L2-normalise each input descriptor before pooling (the paper's choice).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    public NetVLAD(int clusters, int dimension, bool normalizeInput = true) : base(nameof(NetVLAD))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(clusters);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        Clusters = clusters;
        Dimension = dimension;
        NormalizeInput = normalizeInput;
        conv = nn.Conv2d(dimension, clusters, 1, bias: true);
        // Detached so a layer built inside a dispose scope outlives the scope, as modules are expected to.
        centroids = new Parameter(rand(clusters, dimension).DetachFromDisposeScope(), requires_grad: true);
        RegisterComponents();
    }

    /// <summary>K.</summary>
    public int Clusters { get; }

    /// <summary>D.</summary>
    public int Dimension { get; }

    /// <summary>Whether input descriptors are L2-normalised first.</summary>
    public bool NormalizeInput { get; }

    /// <summary>The K × D cluster centres cₖ.</summary>
    public Tensor Centroids => centroids;

    /// <summary>The K × D × 1 × 1 assignment weights wₖ.</summary>
    public Tensor AssignmentWeight => conv.weight!;

    /// <summary>The K assignment biases bₖ.</summary>
    public Tensor AssignmentBias => conv.bias!;

    /// <summary>Sets the paper's initialisation from centres: cₖ as given, wₖ = 2α cₖ, bₖ = −α‖cₖ‖².</summary>
    /// <param name="clusterCentres">Row-major K × D centres, finite.</param>
    /// <param name="alpha">α; positive. Larger values make the initial assignment harder (the paper uses a large α, e.g. 100 for unit-length features).</param>
    /// <exception cref="ArgumentException">The centres are not K × D or not finite, or α is not positive.</exception>
    public void InitializeFromCentroids(ReadOnlySpan<float> clusterCentres, double alpha)
    {
        if (clusterCentres.Length != (long)Clusters * Dimension)
            throw new ArgumentException($"Expected {Clusters} × {Dimension} = {(long)Clusters * Dimension} centre values; got {clusterCentres.Length}.", nameof(clusterCentres));
        foreach (float v in clusterCentres)
        {
            if (!float.IsFinite(v)) throw new ArgumentException("Centres must be finite.", nameof(clusterCentres));
        }
        if (!(alpha > 0) || double.IsInfinity(alpha)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "α must be positive and finite.");
        using var scope = NewDisposeScope();
        using (no_grad())
        {
            Tensor c = tensor(clusterCentres.ToArray(), [Clusters, Dimension]).to(centroids.dtype).to(centroids.device);
            centroids.copy_(c);
            conv.weight!.copy_((2 * alpha * c).reshape(Clusters, Dimension, 1, 1));
            conv.bias!.copy_(-alpha * c.pow(2).sum(1));
        }
    }

    /// <summary>Pools feature maps into NetVLAD descriptors.</summary>
    /// <param name="maps">N × D × H × W floating-point maps.</param>
    /// <returns>N × (K·D) unit-length descriptors, cluster-major (the D residual components of cluster 0 first).</returns>
    /// <exception cref="ArgumentException">The input is not a floating-point 4-D map with D channels.</exception>
    public override Tensor forward(Tensor maps)
    {
        FeatureMaps.Check(maps, nameof(maps));
        if (maps.shape[1] != Dimension)
            throw new ArgumentException($"This NetVLAD pools {Dimension}-channel maps; the maps have {maps.shape[1]}.", nameof(maps));
        return Pool(maps, conv.weight!, conv.bias!, centroids, NormalizeInput);
    }

    /// <summary>The functional form, differentiable in the maps and in all three parameters.</summary>
    /// <param name="maps">N × D × H × W floating-point maps.</param>
    /// <param name="weight">K × D × 1 × 1 (or K × D) assignment weights.</param>
    /// <param name="bias">K assignment biases.</param>
    /// <param name="centres">K × D cluster centres.</param>
    /// <param name="normalizeInput">L2-normalise each input descriptor first.</param>
    /// <returns>N × (K·D) descriptors.</returns>
    /// <exception cref="ArgumentException">The shapes do not agree.</exception>
    public static Tensor Pool(Tensor maps, Tensor weight, Tensor bias, Tensor centres, bool normalizeInput = true)
    {
        FeatureMaps.Check(maps, nameof(maps));
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(bias);
        ArgumentNullException.ThrowIfNull(centres);
        long n = maps.shape[0], d = maps.shape[1], k = centres.shape[0];
        if (centres.dim() != 2 || centres.shape[1] != d)
            throw new ArgumentException($"The centres must be K × {d}; got [{string.Join(", ", centres.shape)}].", nameof(centres));
        if (weight.numel() != k * d || bias.numel() != k)
            throw new ArgumentException($"The assignment weights must have K × D = {k * d} values and the biases K = {k}.", nameof(weight));
        Tensor x = normalizeInput ? nn.functional.normalize(maps, p: 2, dim: 1) : maps;
        Tensor logits = nn.functional.conv2d(x, weight.reshape(k, d, 1, 1), bias.reshape(k));
        Tensor assignment = logits.softmax(1).reshape(n, k, -1);     // N × K × L
        Tensor descriptors = x.reshape(n, d, -1);                       // N × D × L
        Tensor residuals = assignment.matmul(descriptors.transpose(1, 2)) // N × K × D: Σᵢ aₖᵢ xᵢ
            - centres.unsqueeze(0) * assignment.sum(2).unsqueeze(2);     //        − cₖ Σᵢ aₖᵢ
        Tensor intra = nn.functional.normalize(residuals, p: 2, dim: 2);
        return nn.functional.normalize(intra.reshape(n, k * d), p: 2, dim: 1);
    }
}
