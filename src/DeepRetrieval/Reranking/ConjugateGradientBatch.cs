using System.Runtime.Intrinsics;

namespace DeepRetrieval.Reranking;

/// <summary>
/// Solves (I − αS) f = y for <see cref="Columns"/> right-hand sides at once by the conjugate gradient method, exactly
/// as Octave's and MATLAB's <c>pcg</c> without a preconditioner (what the diffusion reference calls): start from 0, at
/// most <c>maxIterations</c> steps, stop when ‖r‖ ≤ tol·‖y‖, on a non-positive curvature or on stagnation, and return
/// the iterate with the smallest residual seen. The vectors are stored node-major with the right-hand sides
/// interleaved, so each pass over the sparse matrix serves all of them.
/// </summary>
internal sealed class ConjugateGradientBatch
{
    public const int Columns = 16;
    private const double MachineEpsilon = 2.220446049250313e-16; // MATLAB's eps

    private readonly AffinityGraph _graph;
    private readonly double _alpha;
    private readonly double[] _x, _r, _p, _w, _best;

    public ConjugateGradientBatch(AffinityGraph graph, double alpha)
    {
        _graph = graph;
        _alpha = alpha;
        int length = graph.NodeCount * Columns;
        _x = new double[length];
        _r = new double[length];
        _p = new double[length];
        _w = new double[length];
        _best = new double[length];
    }

    /// <summary>The right-hand sides, node-major: entry (node, column) at node × <see cref="Columns"/> + column. Fill before <see cref="Solve"/>.</summary>
    public Span<double> RightHandSides => _r;

    /// <summary>The solutions after <see cref="Solve"/>, in the same layout.</summary>
    public ReadOnlySpan<double> Solutions => _best;

    /// <summary>Solves for the first <paramref name="used"/> columns (the others must be zero).</summary>
    public void Solve(int used, int maxIterations, double tolerance)
    {
        int n = _graph.NodeCount;
        Span<double> bNorm = stackalloc double[Columns], bestResidual = stackalloc double[Columns], oldTau = stackalloc double[Columns];
        Span<double> tau = stackalloc double[Columns], den = stackalloc double[Columns], step = stackalloc double[Columns];
        Span<double> beta = stackalloc double[Columns], residual = stackalloc double[Columns], moved = stackalloc double[Columns], size = stackalloc double[Columns];
        Span<bool> active = stackalloc bool[Columns], improved = stackalloc bool[Columns];

        Array.Clear(_x);
        Array.Clear(_p);
        Array.Clear(_best);
        SquaredNorms(_r, bNorm);
        for (int c = 0; c < Columns; c++)
        {
            bNorm[c] = Math.Sqrt(bNorm[c]);
            bestResidual[c] = bNorm[c];
            oldTau[c] = 1.0;
            // pcg returns the zero right-hand side itself, and does not iterate when the start is good enough.
            active[c] = c < used && bNorm[c] > 0 && bNorm[c] > tolerance * bNorm[c];
        }

        for (int iteration = 0; iteration < maxIterations; iteration++)
        {
            bool any = false;
            for (int c = 0; c < Columns; c++) any |= active[c];
            if (!any) break;

            SquaredNorms(_r, tau);
            for (int c = 0; c < Columns; c++)
            {
                beta[c] = active[c] ? tau[c] / oldTau[c] : 0.0;
                if (active[c]) oldTau[c] = tau[c];
            }

            // p = r + βp, then w = (I − αS)p. Stopped columns get β = 0 and step 0 below, which leaves their x and r
            // as they are, so every pass runs over all 16 columns without branches.
            UpdateDirections(beta);
            MultiplyShifted(_p, _w);
            Dots(_p, _w, den);

            for (int c = 0; c < Columns; c++)
            {
                step[c] = 0;
                if (!active[c]) continue;
                if (tau[c] <= 0 || den[c] <= 0)
                {
                    active[c] = false; // pcg's flag 4: the matrix is not positive definite along p
                    continue;
                }

                step[c] = tau[c] / den[c];
            }

            Step(step, moved, size);
            SquaredNorms(_r, residual);
            for (int c = 0; c < Columns; c++)
            {
                improved[c] = false;
                if (!active[c]) continue;
                residual[c] = Math.Sqrt(residual[c]);
                if (residual[c] <= bestResidual[c])
                {
                    bestResidual[c] = residual[c];
                    improved[c] = true;
                }

                bool stagnated = Math.Sqrt(moved[c]) <= MachineEpsilon * Math.Sqrt(size[c]); // pcg's flag 3
                if (stagnated || residual[c] <= tolerance * bNorm[c]) active[c] = false;
            }

            KeepBest(improved);
        }
    }

    private void UpdateDirections(ReadOnlySpan<double> beta)
    {
        Vector256<double> b0 = Vector256.Create(beta[..4]), b1 = Vector256.Create(beta[4..8]), b2 = Vector256.Create(beta[8..12]), b3 = Vector256.Create(beta[12..16]);
        for (int at = 0; at < _p.Length; at += Columns)
        {
            ref double p = ref _p[at];
            ref double r = ref _r[at];
            Vector256.FusedMultiplyAdd(b0, Vector256.LoadUnsafe(ref p), Vector256.LoadUnsafe(ref r)).StoreUnsafe(ref p);
            Vector256.FusedMultiplyAdd(b1, Vector256.LoadUnsafe(ref p, 4), Vector256.LoadUnsafe(ref r, 4)).StoreUnsafe(ref p, 4);
            Vector256.FusedMultiplyAdd(b2, Vector256.LoadUnsafe(ref p, 8), Vector256.LoadUnsafe(ref r, 8)).StoreUnsafe(ref p, 8);
            Vector256.FusedMultiplyAdd(b3, Vector256.LoadUnsafe(ref p, 12), Vector256.LoadUnsafe(ref r, 12)).StoreUnsafe(ref p, 12);
        }
    }

    // x += step·p, r −= step·w, and per column Σ (step·p)² and Σ x² for pcg's stagnation test.
    private void Step(ReadOnlySpan<double> step, Span<double> moved, Span<double> size)
    {
        Span<Vector256<double>> steps = stackalloc Vector256<double>[4];
        Span<Vector256<double>> movedSums = stackalloc Vector256<double>[4];
        Span<Vector256<double>> sizeSums = stackalloc Vector256<double>[4];
        for (int v = 0; v < 4; v++) steps[v] = Vector256.Create(step.Slice(4 * v, 4));
        movedSums.Clear();
        sizeSums.Clear();
        for (int at = 0; at < _x.Length; at += Columns)
        {
            for (int v = 0; v < 4; v++)
            {
                int offset = at + 4 * v;
                Vector256<double> delta = steps[v] * Vector256.LoadUnsafe(ref _p[offset]);
                Vector256<double> x = Vector256.LoadUnsafe(ref _x[offset]) + delta;
                x.StoreUnsafe(ref _x[offset]);
                Vector256.FusedMultiplyAdd(-steps[v], Vector256.LoadUnsafe(ref _w[offset]), Vector256.LoadUnsafe(ref _r[offset])).StoreUnsafe(ref _r[offset]);
                movedSums[v] = Vector256.FusedMultiplyAdd(delta, delta, movedSums[v]);
                sizeSums[v] = Vector256.FusedMultiplyAdd(x, x, sizeSums[v]);
            }
        }

        for (int v = 0; v < 4; v++)
        {
            movedSums[v].CopyTo(moved.Slice(4 * v, 4));
            sizeSums[v].CopyTo(size.Slice(4 * v, 4));
        }
    }

    // best = x for the columns whose residual just reached a new minimum (pcg returns the best iterate).
    private void KeepBest(ReadOnlySpan<bool> improved)
    {
        bool any = false;
        foreach (bool b in improved) any |= b;
        if (!any) return;
        Span<Vector256<double>> masks = stackalloc Vector256<double>[4];
        for (int v = 0; v < 4; v++)
            masks[v] = Vector256.Create(improved[4 * v] ? -1.0 : 0, improved[4 * v + 1] ? -1.0 : 0, improved[4 * v + 2] ? -1.0 : 0, improved[4 * v + 3] ? -1.0 : 0);
        for (int v = 0; v < 4; v++) masks[v] = Vector256.LessThan(masks[v], Vector256<double>.Zero);
        for (int at = 0; at < _x.Length; at += Columns)
        {
            for (int v = 0; v < 4; v++)
            {
                int offset = at + 4 * v;
                Vector256.ConditionalSelect(masks[v], Vector256.LoadUnsafe(ref _x[offset]), Vector256.LoadUnsafe(ref _best[offset])).StoreUnsafe(ref _best[offset]);
            }
        }
    }

    private void MultiplyShifted(double[] p, double[] w)
    {
        int[] rowStart = _graph.RowStart, columns = _graph.Columns;
        double[] values = _graph.Values;
        double alpha = _alpha;
        Parallel.For(0, Environment.ProcessorCount, part =>
        {
            int n = _graph.NodeCount, parts = Environment.ProcessorCount;
            int first = (int)((long)n * part / parts), last = (int)((long)n * (part + 1) / parts);
            for (int i = first; i < last; i++)
            {
                Vector256<double> a0 = default, a1 = default, a2 = default, a3 = default;
                for (int e = rowStart[i]; e < rowStart[i + 1]; e++)
                {
                    var v = Vector256.Create(values[e]);
                    ref double source = ref p[columns[e] * Columns];
                    a0 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref source), a0);
                    a1 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref source, 4), a1);
                    a2 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref source, 8), a2);
                    a3 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref source, 12), a3);
                }

                var scale = Vector256.Create(alpha);
                ref double own = ref p[i * Columns];
                ref double target = ref w[i * Columns];
                (Vector256.LoadUnsafe(ref own) - scale * a0).StoreUnsafe(ref target);
                (Vector256.LoadUnsafe(ref own, 4) - scale * a1).StoreUnsafe(ref target, 4);
                (Vector256.LoadUnsafe(ref own, 8) - scale * a2).StoreUnsafe(ref target, 8);
                (Vector256.LoadUnsafe(ref own, 12) - scale * a3).StoreUnsafe(ref target, 12);
            }
        });
    }

    private static void SquaredNorms(double[] v, Span<double> result) => Dots(v, v, result);

    private static void Dots(double[] a, double[] b, Span<double> result)
    {
        Vector256<double> s0 = default, s1 = default, s2 = default, s3 = default;
        for (int at = 0; at < a.Length; at += Columns)
        {
            s0 += Vector256.LoadUnsafe(ref a[at]) * Vector256.LoadUnsafe(ref b[at]);
            s1 += Vector256.LoadUnsafe(ref a[at], 4) * Vector256.LoadUnsafe(ref b[at], 4);
            s2 += Vector256.LoadUnsafe(ref a[at], 8) * Vector256.LoadUnsafe(ref b[at], 8);
            s3 += Vector256.LoadUnsafe(ref a[at], 12) * Vector256.LoadUnsafe(ref b[at], 12);
        }

        s0.CopyTo(result);
        s1.CopyTo(result[4..]);
        s2.CopyTo(result[8..]);
        s3.CopyTo(result[12..]);
    }
}
