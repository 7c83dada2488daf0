using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DeepRetrieval.Distances;

/// <summary>
/// Dot products of queries against vectors stored in panels: 32 vectors interleaved component by component,
/// <c>panel[t · 32 + lane]</c> = component t of vector lane. A panel layout turns a batch of dot products into
/// outer products (broadcast one query component, multiply it with 32 stored components), so accumulators hold
/// finished dot products with no horizontal sums, and the stored side is read as one sequential stream.
/// Queries are packed the same way in groups of <see cref="GroupRows"/>. This is the register-blocked core of a
/// matrix multiply (as in BLAS's micro-kernels) specialised for <c>Q · Xᵀ</c>.
/// </summary>
internal static unsafe class PanelKernel
{
    public const int Width = 32;
    public const int GroupRows = 8;

    /// <summary>Floats one panel of <paramref name="dimension"/> components occupies.</summary>
    public static long PanelSize(int dimension) => (long)dimension * Width;

    /// <summary>Packs up to <see cref="GroupRows"/> row-major queries into one group, <c>packed[t · 8 + r]</c>; missing rows are zero.</summary>
    public static void PackGroup(float* queries, int rows, int dimension, float* packed)
    {
        for (int t = 0; t < dimension; t++)
        {
            float* target = packed + t * GroupRows;
            int r = 0;
            for (; r < rows; r++) target[r] = queries[(long)r * dimension + t];
            for (; r < GroupRows; r++) target[r] = 0f;
        }
    }

    /// <summary>
    /// <c>output[r · stride + lane]</c> = (query r of the group) · (vector lane of the panel), for 8 rows × 32 lanes.
    /// </summary>
    public static void GroupTimesPanel(float* group, float* panel, int dimension, float* output, int stride)
    {
        if (Vector512.IsHardwareAccelerated)
            GroupTimesPanel512(group, panel, dimension, output, stride);
        else
            GroupTimesPanel256(group, panel, dimension, output, stride);
    }

    /// <summary><c>output[lane]</c> = query · (vector lane of the panel), for one unpacked query.</summary>
    public static void QueryTimesPanel(float* query, float* panel, int dimension, float* output)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            // Two chains per half panel hide the FMA latency of a single query.
            Vector512<float> a0 = default, a1 = default, b0 = default, b1 = default;
            int t = 0;
            for (; t <= dimension - 2; t += 2)
            {
                float* p = panel + t * Width;
                Vector512<float> v0 = Vector512.Create(query[t]), v1 = Vector512.Create(query[t + 1]);
                a0 = Vector512.FusedMultiplyAdd(v0, Vector512.Load(p), a0);
                a1 = Vector512.FusedMultiplyAdd(v0, Vector512.Load(p + 16), a1);
                b0 = Vector512.FusedMultiplyAdd(v1, Vector512.Load(p + Width), b0);
                b1 = Vector512.FusedMultiplyAdd(v1, Vector512.Load(p + Width + 16), b1);
            }
            if (t < dimension)
            {
                float* p = panel + t * Width;
                Vector512<float> v = Vector512.Create(query[t]);
                a0 = Vector512.FusedMultiplyAdd(v, Vector512.Load(p), a0);
                a1 = Vector512.FusedMultiplyAdd(v, Vector512.Load(p + 16), a1);
            }
            (a0 + b0).Store(output);
            (a1 + b1).Store(output + 16);
        }
        else
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int t = 0; t < dimension; t++)
            {
                float* p = panel + t * Width;
                Vector256<float> v = Vector256.Create(query[t]);
                a0 = Vector256.FusedMultiplyAdd(v, Vector256.Load(p), a0);
                a1 = Vector256.FusedMultiplyAdd(v, Vector256.Load(p + 8), a1);
                a2 = Vector256.FusedMultiplyAdd(v, Vector256.Load(p + 16), a2);
                a3 = Vector256.FusedMultiplyAdd(v, Vector256.Load(p + 24), a3);
            }
            a0.Store(output);
            a1.Store(output + 8);
            a2.Store(output + 16);
            a3.Store(output + 24);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GroupTimesPanel512(float* a, float* b, int d, float* c, int stride)
    {
        // 16 accumulators (8 rows × 2 half-panels) + 2 panel loads + 1 broadcast fit the 32 zmm registers.
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        float* q = a;
        for (float* p = b, end = b + (long)d * Width; p < end; p += Width, q += GroupRows)
        {
            Vector512<float> b0 = Vector512.Load(p), b1 = Vector512.Load(p + 16);
            Vector512<float> v = Vector512.Create(q[0]);
            c00 = Vector512.FusedMultiplyAdd(v, b0, c00); c01 = Vector512.FusedMultiplyAdd(v, b1, c01);
            v = Vector512.Create(q[1]);
            c10 = Vector512.FusedMultiplyAdd(v, b0, c10); c11 = Vector512.FusedMultiplyAdd(v, b1, c11);
            v = Vector512.Create(q[2]);
            c20 = Vector512.FusedMultiplyAdd(v, b0, c20); c21 = Vector512.FusedMultiplyAdd(v, b1, c21);
            v = Vector512.Create(q[3]);
            c30 = Vector512.FusedMultiplyAdd(v, b0, c30); c31 = Vector512.FusedMultiplyAdd(v, b1, c31);
            v = Vector512.Create(q[4]);
            c40 = Vector512.FusedMultiplyAdd(v, b0, c40); c41 = Vector512.FusedMultiplyAdd(v, b1, c41);
            v = Vector512.Create(q[5]);
            c50 = Vector512.FusedMultiplyAdd(v, b0, c50); c51 = Vector512.FusedMultiplyAdd(v, b1, c51);
            v = Vector512.Create(q[6]);
            c60 = Vector512.FusedMultiplyAdd(v, b0, c60); c61 = Vector512.FusedMultiplyAdd(v, b1, c61);
            v = Vector512.Create(q[7]);
            c70 = Vector512.FusedMultiplyAdd(v, b0, c70); c71 = Vector512.FusedMultiplyAdd(v, b1, c71);
        }
        c00.Store(c); c01.Store(c + 16); c += stride;
        c10.Store(c); c11.Store(c + 16); c += stride;
        c20.Store(c); c21.Store(c + 16); c += stride;
        c30.Store(c); c31.Store(c + 16); c += stride;
        c40.Store(c); c41.Store(c + 16); c += stride;
        c50.Store(c); c51.Store(c + 16); c += stride;
        c60.Store(c); c61.Store(c + 16); c += stride;
        c70.Store(c); c71.Store(c + 16);
    }

    private static void GroupTimesPanel256(float* a, float* b, int d, float* c, int stride)
    {
        // Without AVX-512 only 16 registers exist: do the 8 × 32 block as four 4 × 16 blocks.
        for (int half = 0; half < Width; half += 16)
        {
            for (int r0 = 0; r0 < GroupRows; r0 += 4)
            {
                Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
                Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
                for (int t = 0; t < d; t++)
                {
                    float* p = b + t * Width + half;
                    float* q = a + t * GroupRows + r0;
                    Vector256<float> b0 = Vector256.Load(p), b1 = Vector256.Load(p + 8);
                    Vector256<float> v = Vector256.Create(q[0]);
                    c00 = Vector256.FusedMultiplyAdd(v, b0, c00); c01 = Vector256.FusedMultiplyAdd(v, b1, c01);
                    v = Vector256.Create(q[1]);
                    c10 = Vector256.FusedMultiplyAdd(v, b0, c10); c11 = Vector256.FusedMultiplyAdd(v, b1, c11);
                    v = Vector256.Create(q[2]);
                    c20 = Vector256.FusedMultiplyAdd(v, b0, c20); c21 = Vector256.FusedMultiplyAdd(v, b1, c21);
                    v = Vector256.Create(q[3]);
                    c30 = Vector256.FusedMultiplyAdd(v, b0, c30); c31 = Vector256.FusedMultiplyAdd(v, b1, c31);
                }
                float* o = c + r0 * stride + half;
                c00.Store(o); c01.Store(o + 8); o += stride;
                c10.Store(o); c11.Store(o + 8); o += stride;
                c20.Store(o); c21.Store(o + 8); o += stride;
                c30.Store(o); c31.Store(o + 8);
            }
        }
    }
}
