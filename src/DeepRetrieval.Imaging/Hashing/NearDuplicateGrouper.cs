namespace DeepRetrieval.Imaging.Hashing;

/// <summary>
/// Groups near-duplicate images by their perceptual hashes. Two items are linked when, for at least
/// <see cref="MinVotes"/> of their hash kinds, the Hamming distance is at most that kind's threshold (multi-hash voting;
/// one kind with one vote is the usual single-hash test); groups are the connected components of the links (single
/// linkage, so a chain of small edits lands in one group). Every pair is compared: about 10⁹ 64-bit comparisons a
/// second on one core, fine for tens of thousands of images; for millions put <see cref="PerceptualHash.Bytes"/> into a
/// binary (Hamming) index and group its range-search results.
/// </summary>
public sealed class NearDuplicateGrouper
{
    private readonly int[] _maxDistances;

    /// <summary>Creates a grouper for items with one hash each (or the same threshold for every kind, one vote).</summary>
    /// <param name="maxDistance">Largest Hamming distance still counted as a duplicate (e.g. 8 of 64 bits for pHash).</param>
    public NearDuplicateGrouper(int maxDistance)
        : this([maxDistance], 1)
    {
    }

    /// <summary>Creates a grouper for items with several hash kinds.</summary>
    /// <param name="maxDistances">Per hash kind, the largest Hamming distance that counts as a vote.</param>
    /// <param name="minVotes">How many kinds must vote for a link, 1 to the number of kinds.</param>
    public NearDuplicateGrouper(IReadOnlyList<int> maxDistances, int minVotes)
    {
        var voting = new HashVoting(maxDistances, minVotes);   // validates the thresholds and the vote count
        _maxDistances = [.. voting.MaxDistances];
        MinVotes = voting.MinVotes;
    }

    /// <summary>Per hash kind, the largest distance that votes for a link.</summary>
    public IReadOnlyList<int> MaxDistances => _maxDistances;

    /// <summary>Votes needed for a link.</summary>
    public int MinVotes { get; }

    /// <summary>Groups items that have one hash each.</summary>
    /// <param name="hashes">One hash per item, all of the same bit count.</param>
    /// <param name="progress">Receives the number of items compared against all later ones; null for none.</param>
    /// <param name="cancellationToken">Stops the work.</param>
    public IReadOnlyList<DuplicateGroup> Group(IReadOnlyList<PerceptualHash> hashes, IProgress<int>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        return Group([.. hashes.Select(h => new[] { h })], progress, cancellationToken);
    }

    /// <summary>Groups items that have several hash kinds each.</summary>
    /// <param name="hashes">Per item, one hash per kind, in the order of <see cref="MaxDistances"/>.</param>
    /// <param name="progress">Receives the number of items compared against all later ones; null for none.</param>
    /// <param name="cancellationToken">Stops the work.</param>
    /// <returns>Groups of two or more items, ordered by their smallest member.</returns>
    /// <exception cref="ArgumentException">An item has the wrong number of hashes, or a kind's bit counts differ.</exception>
    public IReadOnlyList<DuplicateGroup> Group(IReadOnlyList<IReadOnlyList<PerceptualHash>> hashes, IProgress<int>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        int n = hashes.Count, kinds = _maxDistances.Length;
        var codes = new byte[kinds][];
        var widths = new int[kinds];
        for (int k = 0; k < kinds; k++)
        {
            for (int i = 0; i < n; i++)
            {
                IReadOnlyList<PerceptualHash> item = hashes[i] ?? throw new ArgumentException($"Item {i} has no hashes.", nameof(hashes));
                if (item.Count != kinds)
                    throw new ArgumentException($"Item {i} has {item.Count} hash(es); the grouper has {kinds} threshold(s).", nameof(hashes));
                PerceptualHash hash = item[k] ?? throw new ArgumentException($"Item {i} has a null hash.", nameof(hashes));
                if (i == 0)
                {
                    widths[k] = hash.Bytes.Length;
                    codes[k] = new byte[n * widths[k]];
                }
                else if (hash.BitCount != hashes[0][k].BitCount)
                    throw new ArgumentException($"Hash kind {k}: item {i} has {hash.BitCount} bits, item 0 {hashes[0][k].BitCount}.", nameof(hashes));
                hash.Bytes.CopyTo(codes[k].AsSpan(i * widths[k]));
            }
        }

        var sets = new DisjointSets(n);
        for (int i = 0; i < n; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (int j = i + 1; j < n; j++)
            {
                int votes = 0;
                for (int k = 0; k < kinds && votes < MinVotes; k++)
                {
                    int w = widths[k];
                    int distance = DeepRetrieval.Distances.Distance.Hamming(codes[k].AsSpan(i * w, w), codes[k].AsSpan(j * w, w));
                    if (distance <= _maxDistances[k])
                        votes++;
                    else if (votes + (kinds - k - 1) < MinVotes)
                        break;
                }
                if (votes >= MinVotes)
                    sets.Union(i, j);
            }
            progress?.Report(i + 1);
        }

        var groups = new SortedDictionary<int, List<int>>();
        var rootToFirst = new Dictionary<int, int>();
        for (int i = 0; i < n; i++)
        {
            int root = sets.Find(i);
            if (!rootToFirst.TryGetValue(root, out int first))
            {
                rootToFirst[root] = i;
                groups[i] = [i];
            }
            else
                groups[first].Add(i);
        }
        return [.. groups.Values.Where(g => g.Count > 1).Select(g => new DuplicateGroup(g))];
    }
}
