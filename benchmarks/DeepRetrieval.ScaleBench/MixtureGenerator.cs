using DeepRetrieval.AnnBench;

namespace DeepRetrieval.ScaleBench;

/// <summary>
/// A seeded Gaussian mixture on a low-dimensional subspace, generated one row at a time so that millions of rows
/// never have to be held: <c>x = Wᵀ(c + s·u) + e</c>, where <c>c</c> is one of <see cref="Clusters"/> centres drawn
/// from N(0, I) in <see cref="LatentDimension"/> dimensions, <c>u</c> ~ N(0, I) with spread <c>s</c> =
/// <see cref="Spread"/>, <c>W</c> a fixed random <see cref="LatentDimension"/> × D matrix whose row j has
/// N(0, 1/(1 + j/8)) entries (a decaying spectrum, as learnt embeddings have), and <c>e</c> ~ N(0, <see cref="Noise"/>² I)
/// in all D dimensions. Real embeddings have a low intrinsic dimension and clusters; isotropic noise in all D
/// dimensions (AnnBench's <c>synthetic:N:D</c>) has neither and makes every graph index look worse than on real data.
/// </summary>
/// <remarks>
/// Base rows come from one <see cref="Random"/> seeded with the seed, queries from another seeded with seed + 1,
/// so the same seed always gives the same file whatever the chunking.
/// </remarks>
internal sealed class MixtureGenerator
{
    /// <summary>Dimensions of the subspace the clusters live in (fewer when D is smaller).</summary>
    public const int DefaultLatentDimension = 24;

    /// <summary>Standard deviation of a row around its centre, per latent dimension.</summary>
    public const float Spread = 0.35f;

    /// <summary>Standard deviation of the full-dimensional noise.</summary>
    public const float Noise = 0.05f;

    private readonly float[] _centres;
    private readonly float[] _projection;
    private readonly Random _random;
    private readonly float[] _latent;

    public MixtureGenerator(int dimension, int clusters, int seed, bool queries)
    {
        Dimension = dimension;
        Clusters = clusters;
        LatentDimension = Math.Min(DefaultLatentDimension, dimension);
        // The model (centres, projection) depends on the seed only; the rows' stream also on base or queries.
        var model = new Random(seed);
        _centres = new float[clusters * LatentDimension];
        SyntheticData.FillNormal(model, _centres, 1f);
        _projection = new float[LatentDimension * dimension];
        for (int j = 0; j < LatentDimension; j++)
            SyntheticData.FillNormal(model, _projection.AsSpan(j * dimension, dimension), (float)(1 / Math.Sqrt(1 + j / 8.0)));
        _random = new Random(queries ? seed + 1 : seed + 2);
        _latent = new float[LatentDimension];
    }

    public int Dimension { get; }

    public int Clusters { get; }

    public int LatentDimension { get; }

    /// <summary>Writes the next <c>rows.Length / Dimension</c> rows.</summary>
    public void Next(Span<float> rows)
    {
        for (int start = 0; start < rows.Length; start += Dimension)
        {
            Span<float> row = rows.Slice(start, Dimension);
            ReadOnlySpan<float> centre = _centres.AsSpan(_random.Next(Clusters) * LatentDimension, LatentDimension);
            SyntheticData.FillNormal(_random, _latent, Spread);
            SyntheticData.FillNormal(_random, row, Noise);
            for (int j = 0; j < LatentDimension; j++)
            {
                float weight = _latent[j] + centre[j];
                ReadOnlySpan<float> direction = _projection.AsSpan(j * Dimension, Dimension);
                for (int i = 0; i < row.Length; i++) row[i] += weight * direction[i];
            }
        }
    }
}
