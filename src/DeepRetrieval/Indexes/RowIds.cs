namespace DeepRetrieval.Indexes;

/// <summary>
/// The ids of an index that stores its rows densely (row r holds the vector of <c>Ids[r]</c>): the id → row map,
/// the all-or-nothing checks of the index contract, and removal that moves the last row into the hole.
/// </summary>
internal sealed class RowIds
{
    private const long DictionaryEntryBytes = 24; // key, value, hash code, next link
    private readonly Dictionary<long, int> _rowOf = [];
    private long[] _ids = [];

    /// <summary>Rows in use.</summary>
    public int Count { get; private set; }

    /// <summary>The backing array (length = capacity); rows 0..Count−1 are in use. For hot loops.</summary>
    public long[] Ids => _ids;

    public int Capacity => _ids.Length;

    public long MemoryUsageBytes => _ids.LongLength * sizeof(long) + _rowOf.Count * DictionaryEntryBytes;

    public bool Contains(long id) => RowMap.ContainsKey(id);

    /// <summary>
    /// Takes the ids of a read-only (mapped) index without building the id → row map, which the first <see cref="Contains"/>
    /// or <see cref="RowOf"/> builds (throwing <see cref="InvalidDataException"/> for an id stored twice), so opening a
    /// million rows allocates no dictionary.
    /// </summary>
    public void LoadDeferred(long[] ids)
    {
        _ids = ids;
        Count = ids.Length;
        _mapPending = ids.Length > 0;
    }

    private volatile bool _mapPending;

    private Dictionary<long, int> RowMap => _mapPending ? BuildRowMap() : _rowOf;

    private Dictionary<long, int> BuildRowMap()
    {
        lock (_rowOf)
        {
            if (!_mapPending) return _rowOf;
            for (int row = 0; row < Count; row++)
            {
                if (_rowOf.TryAdd(_ids[row], row)) continue;
                _rowOf.Clear();
                throw new InvalidDataException($"Corrupt index file: id {_ids[row]} is stored twice.");
            }
            _mapPending = false;
            return _rowOf;
        }
    }

    /// <summary>A copy of the ids in use, in row order.</summary>
    public long[] Snapshot() => _ids.AsSpan(0, Count).ToArray();

    /// <summary>The row of a stored id; <see cref="KeyNotFoundException"/> otherwise.</summary>
    public int RowOf(long id) =>
        RowMap.TryGetValue(id, out int row) ? row : throw new KeyNotFoundException($"Id {id} is not in the index.");

    /// <summary>Throws unless every id is new and none repeats in the batch; changes nothing.</summary>
    public void CheckNew(ReadOnlySpan<long> ids, string parameterName)
    {
        var seen = new HashSet<long>(ids.Length);
        foreach (long id in ids)
        {
            if (!seen.Add(id)) throw new ArgumentException($"Id {id} appears twice in the batch; ids must be unique.", parameterName);
            if (_rowOf.ContainsKey(id)) throw new ArgumentException($"Id {id} is already in the index; remove it first to replace its vector.", parameterName);
        }
    }

    /// <summary>Throws <see cref="KeyNotFoundException"/> unless every id is stored; changes nothing.</summary>
    public void CheckPresent(ReadOnlySpan<long> ids)
    {
        foreach (long id in ids)
            if (!_rowOf.ContainsKey(id))
                throw new KeyNotFoundException($"Id {id} is not in the index; nothing was removed.");
    }

    public void Resize(int capacity) => Array.Resize(ref _ids, capacity);

    /// <summary>Gives the next row to <paramref name="id"/>; capacity must allow it.</summary>
    public int Append(long id)
    {
        int row = Count++;
        _ids[row] = id;
        _rowOf[id] = row;
        return row;
    }

    /// <summary>
    /// Forgets <paramref name="id"/> and moves the last row's id into its row. The caller moves the row's data
    /// from <paramref name="last"/> to <paramref name="row"/> when they differ. False when the id was already removed.
    /// </summary>
    public bool Remove(long id, out int row, out int last)
    {
        last = Count - 1;
        if (!_rowOf.Remove(id, out row)) return false;
        if (row != last)
        {
            _ids[row] = _ids[last];
            _rowOf[_ids[row]] = row;
        }
        Count--;
        return true;
    }

    /// <summary>
    /// Removes <paramref name="ids"/> (all present, or nothing happens: <see cref="KeyNotFoundException"/>) and keeps
    /// <paramref name="rows"/> compact by moving each last row into the freed one; returns how many were removed.
    /// </summary>
    public int RemoveCompacting<T>(ReadOnlySpan<long> ids, T[] rows, int width) where T : unmanaged
    {
        CheckPresent(ids);
        int removed = 0;
        foreach (long id in ids)
        {
            if (!Remove(id, out int row, out int last)) continue; // listed twice
            if (row != last) rows.AsSpan(last * width, width).CopyTo(rows.AsSpan(row * width, width));
            removed++;
        }
        return removed;
    }
}
