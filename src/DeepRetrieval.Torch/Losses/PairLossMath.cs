using DeepRetrieval.Torch.Miners;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>Vectorised building blocks shared by the pair and tuple losses.</summary>
internal static class PairLossMath
{
    /// <summary>mat[rows[i], cols[i]] for every i, through one flat gather so autograd sees a single index_select.</summary>
    public static Tensor Gather(Tensor matrix, Tensor rows, Tensor columns) =>
        matrix.reshape(-1).index_select(0, rows * matrix.shape[1] + columns);

    /// <summary>A 0/1 mask of the matrix's shape with ones at (rows[i], cols[i]) (duplicates collapse, as PML's mask-based losses).</summary>
    public static Tensor Mask(Tensor matrix, Tensor rows, Tensor columns)
    {
        Tensor mask = zeros(matrix.shape, dtype: ScalarType.Bool, device: matrix.device);
        if (rows.shape[0] == 0) return mask;
        return mask.index_put_(tensor(true, device: matrix.device), rows, columns);
    }

    /// <summary>How many times each (row, column) occurs, as the matrix's dtype (duplicated mined pairs count twice, as in PML's pair-based losses).</summary>
    public static Tensor Counts(Tensor matrix, Tensor rows, Tensor columns)
    {
        Tensor counts = zeros(matrix.shape[0] * matrix.shape[1], dtype: matrix.dtype, device: matrix.device);
        if (rows.shape[0] == 0) return counts.reshape(matrix.shape);
        return counts.index_add(0, rows * matrix.shape[1] + columns, ones(rows.shape[0], dtype: matrix.dtype, device: matrix.device), 1).reshape(matrix.shape);
    }

    /// <summary>The most negative finite value of a floating dtype: stands in for −∞ so that masked entries get a zero, not NaN, gradient.</summary>
    public static double Lowest(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 => double.MinValue,
        ScalarType.Float16 => -65504,
        _ => float.MinValue,
    };

    /// <summary>
    /// log(Σ_{j: mask} exp x_j) along <paramref name="dimension"/>, plus exp(0) = 1 inside the sum when <paramref name="addOne"/>
    /// (PML's <c>lmu.logsumexp</c>); rows with no kept entry give 0. Returns a 1-D tensor.
    /// </summary>
    public static Tensor MaskedLogSumExp(Tensor x, Tensor keep, bool addOne, long dimension)
    {
        Tensor masked = x.masked_fill(keep.logical_not(), Lowest(x.dtype));
        if (addOne)
        {
            long[] shape = (long[])masked.shape.Clone();
            shape[dimension] = 1;
            masked = cat([masked, zeros(shape, dtype: x.dtype, device: x.device)], dimension);
        }
        Tensor output = masked.logsumexp(dimension, keepdim: false);
        return output.masked_fill(keep.any(dimension).logical_not(), 0);
    }

    /// <summary>The relu hinge margin between a value and a constant, as PML's <c>distance.margin</c>: x − c for a distance, c − x for a similarity.</summary>
    public static Tensor Above(bool isSimilarity, Tensor value, double constant) => isSimilarity ? constant - value : value - constant;

    /// <summary>Throws when a loss that compares with its own parameters (proxies or centres) is given a reference set.</summary>
    public static void RejectReference(LossInput input, string loss)
    {
        if (!input.ReferenceIsBatch)
            throw new ArgumentException($"{loss} compares embeddings with its own learned vectors and does not take reference embeddings.", "referenceEmbeddings");
    }

    /// <summary>Distinct batch indices that a miner's tuples name as anchors.</summary>
    public static Tensor AnchorsOf(IndexTuples tuples) => tuples switch
    {
        PairTuples p => cat([p.PositiveAnchors, p.NegativeAnchors]).unique().output,
        TripletTuples t => t.Anchors.unique().output,
        _ => throw new ArgumentException($"Unknown tuple type {tuples.GetType().Name}.", nameof(tuples)),
    };
}
