using DeepRetrieval.Distances;

namespace DeepRetrieval.Aggregation;

/// <summary>
/// A fixed row-major K × d matrix M packed into the interleaved panels of <see cref="PanelKernel"/>, so that the
/// products X · Mᵀ of many rows X (posteriors of a mixture, kernel soft assignment) run as register-blocked outer
/// products at matrix-multiply speed. Immutable after construction and safe to share between threads.
/// </summary>
internal sealed unsafe class PanelMatrix
{
    private const int Width = PanelKernel.Width;
    private const int GroupRows = PanelKernel.GroupRows;
    private readonly float[] _panels;

    public PanelMatrix(ReadOnlySpan<float> rows, int count, int dimension)
    {
        Rows = count;
        Dimension = dimension;
        int panels = (count + Width - 1) / Width;
        _panels = new float[(long)panels * Width * dimension];
        for (int r = 0; r < count; r++)
        {
            long start = (long)(r / Width) * Width * dimension + r % Width;
            for (int t = 0; t < dimension; t++) _panels[start + (long)t * Width] = rows[r * dimension + t];
        }
    }

    public int Rows { get; }

    public int Dimension { get; }

    /// <summary>output[i · Rows + k] = x_i · m_k for the n rows of <paramref name="x"/>.</summary>
    public void MultiplyTransposed(ReadOnlySpan<float> x, int n, Span<float> output)
    {
        int d = Dimension, panels = (Rows + Width - 1) / Width;
        float[] groupBuffer = System.Buffers.ArrayPool<float>.Shared.Rent(GroupRows * Math.Max(d, 1));
        float* block = stackalloc float[GroupRows * Width];
        try
        {
        fixed (float* group = groupBuffer)
        fixed (float* xs = x)
        fixed (float* packed = _panels)
        {
            for (int first = 0; first < n; first += GroupRows)
            {
                int rows = Math.Min(GroupRows, n - first);
                PanelKernel.PackGroup(xs + (long)first * d, rows, d, group);
                for (int p = 0; p < panels; p++)
                {
                    PanelKernel.GroupTimesPanel(group, packed + (long)p * Width * d, d, block, Width);
                    int columns = Math.Min(Width, Rows - p * Width);
                    for (int r = 0; r < rows; r++)
                        new ReadOnlySpan<float>(block + r * Width, columns).CopyTo(output.Slice((first + r) * Rows + p * Width, columns));
                }
            }
        }
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(groupBuffer);
        }
    }
}
