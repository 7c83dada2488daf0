namespace DeepRetrieval.Indexes;

/// <summary>
/// One inverted list of an <see cref="IvfIndex"/>: its codes back to back in one array and its ids in a parallel
/// array, so a scan reads both sequentially. Grows by doubling; removal moves the last entry into the hole.
/// </summary>
internal sealed class IvfList
{
    public byte[] Codes = [];
    public long[] Ids = [];
    public int Count;

    public long MemoryUsageBytes => Codes.LongLength + Ids.LongLength * sizeof(long);

    public void EnsureCapacity(int count, int codeSize)
    {
        if (Ids.Length >= count) return;
        int capacity = (int)Math.Min(Math.Max(count, Math.Max(8L, Ids.Length * 2L)), Array.MaxLength / Math.Max(codeSize, sizeof(long)));
        if (capacity < count)
            throw new InvalidOperationException($"An inverted list with {codeSize}-byte codes holds at most {capacity} vectors.");
        Array.Resize(ref Codes, capacity * codeSize);
        Array.Resize(ref Ids, capacity);
    }

    /// <summary>Drops unused capacity, so a bulk-loaded list costs its entries and nothing more.</summary>
    public void TrimExcess(int codeSize)
    {
        if (Ids.Length == Count) return;
        Array.Resize(ref Codes, Count * codeSize);
        Array.Resize(ref Ids, Count);
    }

    /// <summary>Appends an entry (capacity must allow it) and returns its offset.</summary>
    public int Append(long id, ReadOnlySpan<byte> code)
    {
        int offset = Count++;
        Ids[offset] = id;
        code.CopyTo(Codes.AsSpan(offset * code.Length, code.Length));
        return offset;
    }

    /// <summary>Removes the entry at <paramref name="offset"/>; returns the id moved into it, or −1 when it was the last.</summary>
    public long RemoveAt(int offset, int codeSize)
    {
        int last = --Count;
        if (offset == last) return -1;
        Ids[offset] = Ids[last];
        Codes.AsSpan(last * codeSize, codeSize).CopyTo(Codes.AsSpan(offset * codeSize, codeSize));
        return Ids[offset];
    }
}
