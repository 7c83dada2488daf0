namespace DeepRetrieval.Indexes.Ivf;

/// <summary>
/// Per-thread buffers for <see cref="IvfIndex"/> searches, so a query allocates nothing once a thread has
/// searched a list as long as the longest it meets.
/// </summary>
internal sealed class IvfScratch
{
    [ThreadStatic] private static IvfScratch? t_current;

    public float[] Residual = [];
    public float[] Table = [];
    public float[] Keys = [];
    public long[] ProbeIds = [];
    public float[] ProbeValues = [];
    public float[] Projection = [];
    public float[] Bounds = [];
    public float[] SeedKeys = [];
    public long[] SeedIds = [];
    public int[] Rows = [];
    public byte[] Codes = [];

    public static IvfScratch For(int dimension, int tableSize, int nprobe)
    {
        IvfScratch scratch = t_current ??= new IvfScratch();
        if (scratch.Residual.Length < dimension) scratch.Residual = new float[dimension];
        if (scratch.Table.Length < tableSize) scratch.Table = new float[tableSize];
        if (scratch.ProbeIds.Length < nprobe)
        {
            scratch.ProbeIds = new long[nprobe];
            scratch.ProbeValues = new float[nprobe];
        }
        return scratch;
    }

    /// <summary>Sizes the buffers of <see cref="PrunedCentroidSearch"/>.</summary>
    public void EnsurePruning(int dimension, int rank, int lists, int nprobe)
    {
        if (Residual.Length < dimension) Residual = new float[dimension];
        if (Projection.Length < rank) Projection = new float[rank];
        if (Bounds.Length < lists) Bounds = new float[lists];
        if (SeedKeys.Length < nprobe)
        {
            SeedKeys = new float[nprobe];
            SeedIds = new long[nprobe];
        }
    }

    public Span<int> RowsFor(int count)
    {
        if (Rows.Length < count) Rows = new int[Math.Max(count, 2 * Rows.Length)];
        return Rows.AsSpan(0, count);
    }

    public Span<byte> CodesFor(int bytes)
    {
        if (Codes.Length < bytes) Codes = new byte[Math.Max(bytes, 2 * Codes.Length)];
        return Codes.AsSpan(0, bytes);
    }

    public Span<float> KeysFor(int count)
    {
        if (Keys.Length < count) Keys = new float[Math.Max(count, 2 * Keys.Length)];
        return Keys.AsSpan(0, count);
    }
}
