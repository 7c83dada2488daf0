using System.Numerics.Tensors;

namespace DeepRetrieval.Transforms;

/// <summary>The dense products PCA and OPQ training need, on row-major float data with double accumulation.</summary>
internal static class MatrixProducts
{
    private const int Chunk = 512; // rows accumulated in float before being added to the double total

    /// <summary>
    /// Aᵀ B for row-major A (rows × <paramref name="columnsA"/>) and B (rows × <paramref name="columnsB"/>), as a
    /// row-major <paramref name="columnsA"/> × <paramref name="columnsB"/> array. Each chunk of rows is accumulated
    /// in float with one vector multiply-add per (row, column of A), then added to the double total, which bounds
    /// the float rounding. Parallel over the columns of A; the result does not depend on the thread count.
    /// Non-empty <paramref name="meanA"/> / <paramref name="meanB"/> are subtracted from every row first (centring).
    /// </summary>
    public static double[] TransposeMultiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int rows, int columnsA, int columnsB,
        ReadOnlySpan<float> meanA = default, ReadOnlySpan<float> meanB = default)
    {
        var total = new double[columnsA * columnsB];
        var partial = new float[columnsA * columnsB];
        var blockA = new float[Chunk * columnsA];
        var blockB = new float[Chunk * columnsB];
        for (int first = 0; first < rows; first += Chunk)
        {
            int count = Math.Min(Chunk, rows - first);
            a.Slice(first * columnsA, count * columnsA).CopyTo(blockA);
            b.Slice(first * columnsB, count * columnsB).CopyTo(blockB);
            for (int r = 0; r < count && !meanA.IsEmpty; r++)
                TensorPrimitives.Subtract(blockA.AsSpan(r * columnsA, columnsA), meanA, blockA.AsSpan(r * columnsA, columnsA));
            for (int r = 0; r < count && !meanB.IsEmpty; r++)
                TensorPrimitives.Subtract(blockB.AsSpan(r * columnsB, columnsB), meanB, blockB.AsSpan(r * columnsB, columnsB));
            Array.Clear(partial);
            Parallel.For(0, columnsA, i =>
            {
                Span<float> target = partial.AsSpan(i * columnsB, columnsB);
                for (int r = 0; r < count; r++)
                {
                    float ai = blockA[r * columnsA + i];
                    if (ai != 0f) TensorPrimitives.MultiplyAdd(blockB.AsSpan(r * columnsB, columnsB), ai, target, target);
                }
            });
            for (int i = 0; i < total.Length; i++) total[i] += partial[i];
        }
        return total;
    }

    /// <summary>Y = X Mᵀ for row-major X (rows × columns of M) and M (outputs × inputs): each output row holds the dot products with M's rows.</summary>
    public static void MultiplyByTranspose(ReadOnlySpan<float> x, ReadOnlySpan<float> m, int rows, int inputs, int outputs, Span<float> y)
    {
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = x.Slice(r * inputs, inputs);
            Span<float> target = y.Slice(r * outputs, outputs);
            for (int o = 0; o < outputs; o++) target[o] = TensorPrimitives.Dot(m.Slice(o * inputs, inputs), row);
        }
    }
}
