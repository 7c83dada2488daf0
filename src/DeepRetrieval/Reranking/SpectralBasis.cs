using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace DeepRetrieval.Reranking;

/// <summary>
/// The largest eigenpairs of the symmetric normalised affinity S, by block Lanczos with full reorthogonalisation: an
/// orthonormal basis of the block Krylov space span{B, SB, S²B, …} of a random start block B, the Rayleigh–Ritz
/// projection T = VᵀSV assembled from the orthogonalisation coefficients, and the Ritz pairs of T. A block (rather
/// than one start vector) finds repeated eigenvalues, such as the eigenvalue 1 that every connected component of
/// the graph contributes. A direction that falls into an invariant subspace is replaced by a fresh random one.
/// </summary>
internal static class SpectralBasis
{
    public static (double[] Eigenvalues, double[][] Vectors) Compute(AffinityGraph graph, int rank, int krylovDimension, int blockSize, int seed,
        IProgress<RerankingProgress>? progress, CancellationToken cancellationToken)
    {
        int n = graph.NodeCount;
        int dimension = Math.Min(n, Math.Max(krylovDimension, rank));
        int block = Math.Min(blockSize, dimension);
        var random = new Random(seed);
        var basis = new List<double[]>(dimension);
        var t = new double[dimension, dimension];
        var product = new double[n];

        for (int i = 0; i < block; i++) AppendRandom(basis, n, random);
        int processed = 0;
        while (processed < basis.Count)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int blockEnd = basis.Count;
            for (int j = processed; j < blockEnd; j++)
            {
                graph.Multiply(basis[j], product);
                // T[:, j] = Vᵀ S v_j over the whole basis so far; what is left of S v_j seeds the next block.
                var w = (double[])product.Clone();
                for (int pass = 0; pass < 2; pass++)
                {
                    for (int i = 0; i < basis.Count; i++)
                    {
                        double h = Dot(basis[i], w);
                        if (i < dimension) t[i, j] += h;
                        Axpy(-h, basis[i], w);
                    }
                }

                if (basis.Count < dimension)
                {
                    double norm = Math.Sqrt(Dot(w, w));
                    if (norm > 1e-10 * Math.Sqrt(Dot(product, product)) && norm > 1e-300)
                    {
                        Scale(w, 1.0 / norm);
                        basis.Add(w);
                        t[basis.Count - 1, j] += norm;
                    }
                    else
                    {
                        AppendRandom(basis, n, random); // an invariant subspace was found; restart in a fresh direction
                    }
                }
            }

            processed = blockEnd;
            progress?.Report(new RerankingProgress("spectral basis", Math.Min(processed, dimension), dimension));
        }

        // T is symmetric in exact arithmetic; its lower part mixes in the norms of the next block.
        var matrix = Matrix<double>.Build.Dense(dimension, dimension, (i, j) => 0.5 * (t[i, j] + t[j, i]));
        Evd<double> evd = matrix.Evd(Symmetricity.Symmetric);
        var eigenvalues = new double[rank];
        var vectors = new double[rank][];
        for (int r = 0; r < rank; r++)
        {
            int column = dimension - 1 - r; // MathNet sorts ascending
            eigenvalues[r] = evd.EigenValues[column].Real;
            var u = new double[n];
            for (int i = 0; i < dimension; i++) Axpy(evd.EigenVectors[i, column], basis[i], u);
            vectors[r] = u;
        }

        return (eigenvalues, vectors);
    }

    private static void AppendRandom(List<double[]> basis, int n, Random random)
    {
        for (int attempt = 0; attempt < 8; attempt++)
        {
            var v = new double[n];
            for (int i = 0; i < n; i++) v[i] = random.NextDouble() - 0.5;
            for (int pass = 0; pass < 2; pass++)
                foreach (double[] b in basis) Axpy(-Dot(b, v), b, v);
            double norm = Math.Sqrt(Dot(v, v));
            if (norm > 1e-8)
            {
                Scale(v, 1.0 / norm);
                basis.Add(v);
                return;
            }
        }

        throw new InvalidOperationException("Could not extend the Krylov basis: the space is exhausted.");
    }

    private static double Dot(double[] a, double[] b) => System.Numerics.Tensors.TensorPrimitives.Dot<double>(a, b);

    private static void Axpy(double a, double[] x, double[] y) => System.Numerics.Tensors.TensorPrimitives.MultiplyAdd<double>(x, a, y, y);

    private static void Scale(double[] x, double a) => System.Numerics.Tensors.TensorPrimitives.Multiply<double>(x, a, x);
}
