namespace DeepRetrieval.Imaging.Features;

/// <summary>Per-thread buffers for the gradient samples of orientation histograms and descriptors; grown on demand, never shrunk.</summary>
internal sealed class OrientationScratch
{
    public float[] X { get; private set; } = [];
    public float[] Y { get; private set; } = [];
    public float[] Weight { get; private set; } = [];
    public float[] Angle { get; private set; } = [];
    public float[] RowBin { get; private set; } = [];
    public float[] ColumnBin { get; private set; } = [];

    public void Ensure(int length)
    {
        if (X.Length >= length) return;
        int capacity = Math.Max(length, X.Length * 2);
        X = new float[capacity];
        Y = new float[capacity];
        Weight = new float[capacity];
        Angle = new float[capacity];
        RowBin = new float[capacity];
        ColumnBin = new float[capacity];
    }
}
