namespace DeepRetrieval.Imaging.Hashing;

/// <summary>
/// The multi-hash rule: an item matches when, for at least <see cref="MinVotes"/> hash kinds, the Hamming distance is
/// at most that kind's threshold (e.g. a copy when 3 of {aHash, dHash, pHash, wHash} are within 10 of 64 bits).
/// </summary>
public sealed record HashVoting
{
    /// <summary>Creates a rule.</summary>
    /// <param name="maxDistances">Per hash kind, in the index's kind order, the largest distance that votes.</param>
    /// <param name="minVotes">Votes needed, 1 to the number of kinds.</param>
    /// <exception cref="ArgumentException">No threshold, a negative one, or a vote count out of range.</exception>
    public HashVoting(IReadOnlyList<int> maxDistances, int minVotes)
    {
        ArgumentNullException.ThrowIfNull(maxDistances);
        if (maxDistances.Count == 0)
            throw new ArgumentException("Give a threshold for at least one hash kind.", nameof(maxDistances));
        foreach (int d in maxDistances)
            ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(maxDistances));
        ArgumentOutOfRangeException.ThrowIfLessThan(minVotes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minVotes, maxDistances.Count);
        MaxDistances = [.. maxDistances];
        MinVotes = minVotes;
    }

    /// <summary>One kind, one vote: a match is within <paramref name="maxDistance"/>.</summary>
    /// <param name="maxDistance">The largest distance that matches.</param>
    public static HashVoting Single(int maxDistance) => new([maxDistance], 1);

    /// <summary>Per hash kind, the largest distance that votes.</summary>
    public IReadOnlyList<int> MaxDistances { get; }

    /// <summary>Votes needed for a match.</summary>
    public int MinVotes { get; }
}
