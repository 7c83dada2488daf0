using DeepRetrieval.Distances;
using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Binary;

namespace DeepRetrieval.Imaging.Hashing;

/// <summary>
/// Perceptual hashes of many images in binary (Hamming) indexes, one <see cref="BinaryFlatIndex"/> per hash kind, all
/// under the caller's ids: k-nearest and radius search on one kind, multi-hash voting across kinds, and near-duplicate
/// grouping through range search instead of comparing every pair. A scan compares about a billion 64-bit codes a second
/// on one core, so millions of images answer a query in milliseconds.
/// </summary>
/// <remarks>
/// Hashing (<see cref="Hash"/>) is thread-safe, and so are searches with each other; adds and removes must not overlap
/// anything else. Distances are exactly <see cref="PerceptualHash.DistanceTo"/> (see <see cref="PerceptualHashCodes"/>).
/// </remarks>
/// <example>
/// <code>
/// var index = new PerceptualHashIndex(PerceptualHashers.Create("phash"), PerceptualHashers.Create("dhash"));
/// index.Add(1, ImageDecoder.Decode("original.jpg"));
/// IReadOnlyList&lt;HashMatch&gt; copies = index.FindMatches(ImageDecoder.Decode("query.jpg"), new HashVoting([10, 10], minVotes: 2));
/// </code>
/// </example>
public sealed class PerceptualHashIndex
{
    private readonly IPerceptualHasher[] _hashers;
    private readonly IBinaryIndex[] _indexes;

    /// <summary>Creates an empty index for the given hash kinds.</summary>
    /// <param name="hashers">One or more hashers; their order is the kind order of hashes, thresholds and distances.</param>
    /// <exception cref="ArgumentException">No hasher, or a null one.</exception>
    public PerceptualHashIndex(params IReadOnlyList<IPerceptualHasher> hashers)
    {
        ArgumentNullException.ThrowIfNull(hashers);
        if (hashers.Count == 0)
            throw new ArgumentException("Give at least one hasher.", nameof(hashers));
        _hashers = [.. hashers.Select((h, i) => h ?? throw new ArgumentException($"Hasher {i} is null.", nameof(hashers)))];
        _indexes = [.. _hashers.Select(IBinaryIndex (h) => new BinaryFlatIndex(PerceptualHashCodes.IndexBits(h.BitCount)))];
    }

    /// <summary>Creates an empty index for hash kinds named in <see cref="PerceptualHashers"/> (e.g. "phash", "dhash").</summary>
    /// <param name="kinds">Registered names.</param>
    /// <exception cref="ArgumentException">No name, or an unknown one.</exception>
    public static PerceptualHashIndex Create(params IReadOnlyList<string> kinds)
    {
        ArgumentNullException.ThrowIfNull(kinds);
        return new PerceptualHashIndex([.. kinds.Select(PerceptualHashers.Create)]);
    }

    /// <summary>The hashers, in kind order.</summary>
    public IReadOnlyList<IPerceptualHasher> Hashers => _hashers;

    /// <summary>Number of stored images.</summary>
    public long Count => _indexes[0].Count;

    /// <summary>The binary index holding one kind's codes (for saving it, or searching it with other options).</summary>
    /// <param name="kind">The kind's position in <see cref="Hashers"/>.</param>
    public IBinaryIndex BinaryIndex(int kind) => _indexes[CheckKind(kind)];

    /// <summary>Computes every kind's hash of an image, in kind order.</summary>
    /// <param name="image">The decoded image.</param>
    public PerceptualHash[] Hash(PixelImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return [.. _hashers.Select(h => h.Compute(image))];
    }

    /// <summary>Hashes an image and stores its hashes under <paramref name="id"/>.</summary>
    /// <param name="id">An id not stored yet (0 to <see cref="long.MaxValue"/> − 1).</param>
    /// <param name="image">The decoded image.</param>
    public void Add(long id, PixelImage image) => Add(id, Hash(image));

    /// <summary>Stores one image's hashes under <paramref name="id"/>.</summary>
    /// <param name="id">An id not stored yet.</param>
    /// <param name="hashes">One hash per kind, in kind order.</param>
    /// <exception cref="ArgumentException">Wrong number of hashes or bits, or the id is stored or invalid; nothing is added.</exception>
    public void Add(long id, IReadOnlyList<PerceptualHash> hashes) => Add([id], [hashes]);

    /// <summary>Stores many images' hashes at once (the fast way to build a large index).</summary>
    /// <param name="ids">One id per image, none stored yet.</param>
    /// <param name="hashes">Per image, one hash per kind in kind order.</param>
    /// <exception cref="ArgumentException">The counts differ, a hash has the wrong bit count, or an id is stored, repeated or invalid; nothing is added.</exception>
    public void Add(ReadOnlySpan<long> ids, IReadOnlyList<IReadOnlyList<PerceptualHash>> hashes)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        if (hashes.Count != ids.Length)
            throw new ArgumentException($"Got {ids.Length} ids and {hashes.Count} sets of hashes; give one set per id.", nameof(hashes));
        var codes = new byte[_hashers.Length][];
        for (int k = 0; k < _hashers.Length; k++)
            codes[k] = new byte[(long)ids.Length * _indexes[k].CodeSize];
        for (int i = 0; i < hashes.Count; i++)
        {
            IReadOnlyList<PerceptualHash> item = hashes[i] ?? throw new ArgumentException($"Image {i} has no hashes.", nameof(hashes));
            CheckHashes(item, nameof(hashes), $"Image {i}");
            for (int k = 0; k < _hashers.Length; k++)
                item[k].Bytes.CopyTo(codes[k].AsSpan(i * _indexes[k].CodeSize));
        }
        // The first index validates the ids (range, duplicates, already stored) before changing anything; the others hold
        // the same ids, so they accept them too.
        _indexes[0].Add(codes[0], ids);
        for (int k = 1; k < _indexes.Length; k++)
            _indexes[k].Add(codes[k], ids);
    }

    /// <summary>True when <paramref name="id"/> is stored.</summary>
    /// <param name="id">The id.</param>
    public bool Contains(long id) => _indexes[0].Contains(id);

    /// <summary>Every stored id, ascending.</summary>
    public long[] GetIds()
    {
        long[] ids = _indexes[0].GetIds();
        Array.Sort(ids);
        return ids;
    }

    /// <summary>The stored hashes of <paramref name="id"/>, in kind order.</summary>
    /// <param name="id">A stored id.</param>
    /// <exception cref="KeyNotFoundException">The id is not stored.</exception>
    public PerceptualHash[] GetHashes(long id)
    {
        var hashes = new PerceptualHash[_hashers.Length];
        for (int k = 0; k < hashes.Length; k++)
            hashes[k] = new PerceptualHash(_indexes[k].Reconstruct(id), _hashers[k].BitCount);
        return hashes;
    }

    /// <summary>Removes images; either all the ids are removed or, when one is unknown, none.</summary>
    /// <param name="ids">Stored ids.</param>
    /// <returns>The number removed.</returns>
    /// <exception cref="KeyNotFoundException">An id is not stored (nothing is removed).</exception>
    public int Remove(ReadOnlySpan<long> ids)
    {
        int removed = _indexes[0].Remove(ids);
        for (int k = 1; k < _indexes.Length; k++)
            _indexes[k].Remove(ids);
        return removed;
    }

    /// <summary>The <paramref name="k"/> stored images nearest to a hash of one kind, closest first (ties by ascending id).</summary>
    /// <param name="hash">The query hash.</param>
    /// <param name="k">How many; fewer come back when fewer are stored.</param>
    /// <param name="kind">The kind of <paramref name="hash"/> (its position in <see cref="Hashers"/>).</param>
    /// <exception cref="ArgumentException">The hash's bit count is not the kind's.</exception>
    public HashNeighbor[] Search(PerceptualHash hash, int k, int kind = 0)
    {
        CheckHash(hash, CheckKind(kind), nameof(hash));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        BinarySearchResult result = _indexes[kind].Search(hash.Bytes, (int)Math.Min(k, Math.Max(1, Count)));
        var neighbors = new List<HashNeighbor>(result.Ids.Length);
        for (int i = 0; i < result.Ids.Length; i++)
            if (result.Ids[i] != SearchResult.MissingId)
                neighbors.Add(new HashNeighbor(result.Ids[i], result.Distances[i]));
        return [.. neighbors];
    }

    /// <summary>Every stored image whose hash of one kind is within <paramref name="maxDistance"/> of the query (inclusive), closest first.</summary>
    /// <param name="hash">The query hash.</param>
    /// <param name="maxDistance">The largest Hamming distance returned.</param>
    /// <param name="kind">The kind of <paramref name="hash"/>.</param>
    public HashNeighbor[] SearchWithin(PerceptualHash hash, int maxDistance, int kind = 0)
    {
        CheckHash(hash, CheckKind(kind), nameof(hash));
        ArgumentOutOfRangeException.ThrowIfNegative(maxDistance);
        BinaryRangeSearchResult result = _indexes[kind].RangeSearch(hash.Bytes, maxDistance + 1);
        var neighbors = new HashNeighbor[result.Ids.Length];
        for (int i = 0; i < neighbors.Length; i++)
            neighbors[i] = new HashNeighbor(result.Ids[i], result.Distances[i]);
        Array.Sort(neighbors, static (a, b) => a.Distance != b.Distance ? a.Distance.CompareTo(b.Distance) : a.Id.CompareTo(b.Id));
        return neighbors;
    }

    /// <summary>Hashes an image and returns the stored images that enough kinds vote for (see the hashes overload).</summary>
    /// <param name="image">The query image.</param>
    /// <param name="voting">Thresholds per kind and votes needed.</param>
    public IReadOnlyList<HashMatch> FindMatches(PixelImage image, HashVoting voting) => FindMatches(Hash(image), voting);

    /// <summary>
    /// The stored images for which at least <see cref="HashVoting.MinVotes"/> kinds are within their threshold of the
    /// query's hashes; most votes first, then smallest summed distance, then ascending id.
    /// </summary>
    /// <param name="hashes">The query's hashes, one per kind in kind order.</param>
    /// <param name="voting">Thresholds per kind (as many as kinds) and votes needed.</param>
    /// <exception cref="ArgumentException">The hashes or thresholds do not fit the kinds.</exception>
    public IReadOnlyList<HashMatch> FindMatches(IReadOnlyList<PerceptualHash> hashes, HashVoting voting)
    {
        CheckHashes(hashes, nameof(hashes), "The query");
        CheckVoting(voting);
        var votes = new Dictionary<long, int>();
        for (int k = 0; k < _indexes.Length; k++)
        {
            BinaryRangeSearchResult found = _indexes[k].RangeSearch(hashes[k].Bytes, voting.MaxDistances[k] + 1);
            foreach (long id in found.Ids)
                votes[id] = votes.GetValueOrDefault(id) + 1;
        }
        var matches = new List<HashMatch>();
        foreach ((long id, int count) in votes)
        {
            if (count < voting.MinVotes)
                continue;
            var distances = new int[_indexes.Length];
            for (int k = 0; k < distances.Length; k++)
                distances[k] = Distance.Hamming(hashes[k].Bytes, _indexes[k].Reconstruct(id));
            matches.Add(new HashMatch(id, count, distances));
        }
        matches.Sort(static (a, b) =>
        {
            if (a.Votes != b.Votes) return b.Votes.CompareTo(a.Votes);
            int sum = a.Distances.Sum().CompareTo(b.Distances.Sum());
            return sum != 0 ? sum : a.Id.CompareTo(b.Id);
        });
        return matches;
    }

    /// <summary>
    /// Groups the stored images into near-duplicate sets: two images are linked when enough kinds vote (as in
    /// <see cref="FindMatches(IReadOnlyList{PerceptualHash}, HashVoting)"/>), groups are the connected components
    /// (single linkage, as <see cref="NearDuplicateGrouper"/>), found by range searches rather than by every pair.
    /// </summary>
    /// <param name="voting">Thresholds per kind and votes needed.</param>
    /// <param name="progress">Receives the number of images searched so far; null for none.</param>
    /// <param name="cancellationToken">Stops between batches.</param>
    /// <returns>Groups of two or more ids, each ascending, ordered by their smallest id.</returns>
    public IReadOnlyList<IReadOnlyList<long>> GroupDuplicates(HashVoting voting, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        CheckVoting(voting);
        long[] ids = GetIds();
        var position = new Dictionary<long, int>(ids.Length);
        for (int i = 0; i < ids.Length; i++)
            position[ids[i]] = i;
        var sets = new DisjointSets(ids.Length);

        const int BatchSize = 4096;
        var pairVotes = new Dictionary<(int, int), int>();
        for (int start = 0; start < ids.Length; start += BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int rows = Math.Min(BatchSize, ids.Length - start);
            pairVotes.Clear();
            for (int k = 0; k < _indexes.Length; k++)
            {
                int size = _indexes[k].CodeSize;
                var queries = new byte[rows * size];
                for (int r = 0; r < rows; r++)
                    _indexes[k].Reconstruct(ids[start + r], queries.AsSpan(r * size, size));
                BinaryRangeSearchResult found = _indexes[k].RangeSearch(queries, voting.MaxDistances[k] + 1);
                for (int r = 0; r < rows; r++)
                {
                    int i = start + r;
                    foreach (long other in found.IdsOf(r))
                    {
                        int j = position[other];
                        // Each pair is counted once per kind: from the query with the smaller position.
                        if (j > i)
                            pairVotes[(i, j)] = pairVotes.GetValueOrDefault((i, j)) + 1;
                    }
                }
            }
            foreach (((int i, int j), int count) in pairVotes)
                if (count >= voting.MinVotes)
                    sets.Union(i, j);
            progress?.Report(start + rows);
        }

        var groups = new SortedDictionary<int, List<long>>();
        for (int i = 0; i < ids.Length; i++)
        {
            int root = sets.Find(i);
            if (!groups.TryGetValue(root, out List<long>? members))
                groups[root] = members = [];
            members.Add(ids[i]);
        }
        return [.. groups.Values.Where(g => g.Count > 1).OrderBy(g => g[0])];
    }

    private int CheckKind(int kind)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(kind);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(kind, _hashers.Length);
        return kind;
    }

    private void CheckHash(PerceptualHash hash, int kind, string parameter)
    {
        ArgumentNullException.ThrowIfNull(hash, parameter);
        if (hash.BitCount != _hashers[kind].BitCount)
            throw new ArgumentException($"Kind {kind} ({_hashers[kind].Name}) has {_hashers[kind].BitCount}-bit hashes; got {hash.BitCount} bits.", parameter);
    }

    private void CheckHashes(IReadOnlyList<PerceptualHash> hashes, string parameter, string what)
    {
        ArgumentNullException.ThrowIfNull(hashes, parameter);
        if (hashes.Count != _hashers.Length)
            throw new ArgumentException($"{what} has {hashes.Count} hash(es); the index holds {_hashers.Length} kind(s) ({string.Join(", ", _hashers.Select(h => h.Name))}).", parameter);
        for (int k = 0; k < hashes.Count; k++)
            CheckHash(hashes[k], k, parameter);
    }

    private void CheckVoting(HashVoting voting)
    {
        ArgumentNullException.ThrowIfNull(voting);
        if (voting.MaxDistances.Count != _hashers.Length)
            throw new ArgumentException($"The voting has {voting.MaxDistances.Count} threshold(s); the index holds {_hashers.Length} kind(s).", nameof(voting));
    }
}
