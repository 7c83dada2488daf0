namespace DeepRetrieval.Indexes.Ivf;

/// <summary>
/// One inverted list of an <see cref="IvfIndex"/>: its codes back to back and its ids in a parallel run, so a scan reads
/// both sequentially. An in-memory list grows by doubling and fills a removal's hole with its last entry; a mapped list
/// (<see cref="IndexFile.Map"/>, as Faiss's <c>OnDiskInvertedLists</c>) reads both from the file in place and never changes.
/// </summary>
internal sealed unsafe class IvfList
{
    private byte[] _codes = [];
    private long[] _ids = [];
    private byte* _mappedCodes;
    private long* _mappedIds;
    private int _mappedCodeBytes;
    public int Count;

    /// <summary>The codes: at least <see cref="Count"/> of them back to back (an in-memory list's spare capacity follows).</summary>
    public ReadOnlySpan<byte> Codes => _mappedCodes is null ? _codes : new ReadOnlySpan<byte>(_mappedCodes, _mappedCodeBytes);

    /// <summary>The <see cref="Count"/> ids, in the codes' order.</summary>
    public ReadOnlySpan<long> Ids => _mappedIds is null ? _ids.AsSpan(0, Count) : new ReadOnlySpan<long>(_mappedIds, Count);

    /// <summary>Bytes on the managed heap (a mapped list's entries stay in the file).</summary>
    public long MemoryUsageBytes => _codes.LongLength + _ids.LongLength * sizeof(long);

    /// <summary>Installs entries read from a file.</summary>
    public void Load(long[] ids, byte[] codes)
    {
        _ids = ids;
        _codes = codes;
        Count = ids.Length;
    }

    /// <summary>Uses <paramref name="count"/> entries of a mapped file in place (bounds checked by the caller).</summary>
    public void Map(long* ids, byte* codes, int count, int codeSize)
    {
        _mappedIds = ids;
        _mappedCodes = codes;
        _mappedCodeBytes = checked(count * codeSize);
        Count = count;
    }

    public void EnsureCapacity(int count, int codeSize)
    {
        if (_ids.Length >= count) return;
        int capacity = (int)Math.Min(Math.Max(count, Math.Max(8L, _ids.Length * 2L)), Array.MaxLength / Math.Max(codeSize, sizeof(long)));
        if (capacity < count)
            throw new InvalidOperationException($"An inverted list with {codeSize}-byte codes holds at most {capacity} vectors.");
        Array.Resize(ref _codes, capacity * codeSize);
        Array.Resize(ref _ids, capacity);
    }

    /// <summary>Drops unused capacity, so a bulk-loaded list costs its entries and nothing more.</summary>
    public void TrimExcess(int codeSize)
    {
        if (_ids.Length == Count) return;
        Array.Resize(ref _codes, Count * codeSize);
        Array.Resize(ref _ids, Count);
    }

    /// <summary>Appends an entry (capacity must allow it) and returns its offset.</summary>
    public int Append(long id, ReadOnlySpan<byte> code)
    {
        int offset = Count++;
        _ids[offset] = id;
        code.CopyTo(_codes.AsSpan(offset * code.Length, code.Length));
        return offset;
    }

    /// <summary>Removes the entry at <paramref name="offset"/>; returns the id moved into it, or −1 when it was the last.</summary>
    public long RemoveAt(int offset, int codeSize)
    {
        int last = --Count;
        if (offset == last) return -1;
        _ids[offset] = _ids[last];
        _codes.AsSpan(last * codeSize, codeSize).CopyTo(_codes.AsSpan(offset * codeSize, codeSize));
        return _ids[offset];
    }
}
