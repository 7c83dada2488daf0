namespace DeepRetrieval.Imaging.Features;

/// <summary>
/// The planes of one pyramid, kept for the next image: plane i is reallocated only when a larger image needs more
/// room. Not thread-safe; <see cref="Sift"/> hands each concurrent call its own set.
/// </summary>
internal sealed class PyramidBuffers
{
    private float[][] _planes = [];

    /// <summary>Plane <paramref name="index"/>, at least <paramref name="length"/> floats (contents unspecified).</summary>
    public float[] Plane(int index, int length)
    {
        if (index >= _planes.Length) Array.Resize(ref _planes, Math.Max(index + 1, _planes.Length * 2));
        float[]? plane = _planes[index];
        if (plane is null || plane.Length < length) _planes[index] = plane = GC.AllocateUninitializedArray<float>(length);
        return plane;
    }

    /// <summary>Floats held by all planes.</summary>
    public long Floats => _planes.Sum(p => (long)(p?.Length ?? 0));
}
