namespace DeepRetrieval.Imaging.Hashing;

/// <summary>Union–find over 0..n−1 with path halving; a set's representative is its smallest member.</summary>
internal sealed class DisjointSets
{
    private readonly int[] _parent;

    public DisjointSets(int count)
    {
        _parent = new int[count];
        for (int i = 0; i < count; i++)
            _parent[i] = i;
    }

    public int Find(int i)
    {
        while (_parent[i] != i)
        {
            _parent[i] = _parent[_parent[i]];
            i = _parent[i];
        }
        return i;
    }

    public void Union(int a, int b)
    {
        int ra = Find(a), rb = Find(b);
        if (ra != rb)
            _parent[Math.Max(ra, rb)] = Math.Min(ra, rb);
    }
}
