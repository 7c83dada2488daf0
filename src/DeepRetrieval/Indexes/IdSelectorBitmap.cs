using System.Numerics;

namespace DeepRetrieval.Indexes;

/// <summary>
/// Allows the ids whose bit is set in a bitmap over 0 … <see cref="Length"/> − 1 (Faiss's <c>IDSelectorBitmap</c>):
/// one bit per id, membership in a shift and a mask. Ids at or beyond <see cref="Length"/>, and negative ids, are not
/// allowed. Suits the dense ids an index assigns itself.
/// </summary>
public sealed class IdSelectorBitmap : IdSelector
{
    private readonly ulong[] _words;
    private readonly long _count;
    private long[]? _sorted;

    /// <summary>Allows the ids <c>i</c> for which <c>allowed[i]</c> is true.</summary>
    /// <param name="allowed">One flag per id from 0.</param>
    public IdSelectorBitmap(ReadOnlySpan<bool> allowed)
    {
        Length = allowed.Length;
        _words = new ulong[(allowed.Length + 63) / 64];
        for (int i = 0; i < allowed.Length; i++)
            if (allowed[i]) _words[i >> 6] |= 1UL << i;
        foreach (ulong word in _words) _count += BitOperations.PopCount(word);
    }

    /// <summary>Allows <paramref name="ids"/>, a bitmap as long as the largest of them plus one.</summary>
    /// <param name="ids">Non-negative ids; duplicates are ignored.</param>
    /// <exception cref="ArgumentException">An id is negative or too large for a bitmap.</exception>
    public IdSelectorBitmap(ReadOnlySpan<long> ids)
    {
        long largest = -1;
        foreach (long id in ids)
        {
            if (id < 0) throw new ArgumentException($"Id {id} is negative; a bitmap selector holds ids from 0.", nameof(ids));
            largest = Math.Max(largest, id);
        }
        if (largest >= (long)Array.MaxLength * 64)
            throw new ArgumentException($"Id {largest} is too large for a bitmap; use IdSelectorBatch.", nameof(ids));
        Length = largest + 1;
        _words = new ulong[(Length + 63) / 64];
        foreach (long id in ids) _words[id >> 6] |= 1UL << (int)(id & 63);
        foreach (ulong word in _words) _count += BitOperations.PopCount(word);
    }

    /// <summary>The number of ids the bitmap covers, 0 … Length − 1.</summary>
    public long Length { get; }

    /// <inheritdoc />
    public override bool Contains(long id) => (ulong)id < (ulong)Length && (_words[id >> 6] & (1UL << (int)(id & 63))) != 0;

    /// <inheritdoc />
    public override long? Count => _count;

    internal override bool TryGetSortedIds(out ReadOnlySpan<long> ids)
    {
        ids = _sorted ??= SetBits();
        return true;
    }

    private long[] SetBits()
    {
        var sorted = new long[_count];
        int next = 0;
        for (int w = 0; w < _words.Length; w++)
            for (ulong word = _words[w]; word != 0; word &= word - 1)
                sorted[next++] = (long)w * 64 + BitOperations.TrailingZeroCount(word);
        return sorted;
    }
}
