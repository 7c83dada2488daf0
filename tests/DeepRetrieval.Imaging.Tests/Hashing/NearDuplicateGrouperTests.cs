using DeepRetrieval.Imaging.Hashing;

namespace DeepRetrieval.Imaging.Tests.Hashing;

public sealed class NearDuplicateGrouperTests
{
    private static PerceptualHash H(ulong bits) => PerceptualHash.FromUInt64(bits);

    [Fact]
    public void Group_LinksHashesWithinTheThreshold_BySingleLinkage()
    {
        // 0 and 1 differ in 3 bits; 1 and 2 in 2 bits (0 and 2: 5 bits, linked through 1); 3 and 4 in 1 bit; 5 is alone.
        PerceptualHash[] hashes = [H(0), H(0b111), H(0b11111), H(0xFFFF_0000_0000_0000), H(0xFFFF_0000_0000_0001), H(0x0F0F_0F0F_0F0F_0F0F)];
        IReadOnlyList<DuplicateGroup> groups = new NearDuplicateGrouper(3).Group(hashes);
        groups.Select(g => g.Members).Should().BeEquivalentTo(new[] { new[] { 0, 1, 2 }, new[] { 3, 4 } }, o => o.WithStrictOrdering());
        new NearDuplicateGrouper(0).Group(hashes).Should().BeEmpty();
    }

    [Fact]
    public void Group_CountsVotesAcrossHashKinds()
    {
        // Items 0 and 1 agree in the first kind only; 0 and 2 in both.
        PerceptualHash[][] items =
        [
            [H(0), H(0)],
            [H(1), H(ulong.MaxValue)],
            [H(0b11), H(0b1)],
        ];
        var progress = new List<int>();
        var oneVote = new NearDuplicateGrouper([2, 2], minVotes: 1).Group(items, new Progress<int>(progress.Add));
        oneVote.Single().Members.Should().Equal(0, 1, 2);
        var twoVotes = new NearDuplicateGrouper([2, 2], minVotes: 2).Group(items);
        twoVotes.Single().Members.Should().Equal(0, 2);
    }

    [Fact]
    public void Group_RejectsInconsistentInput_AndHonoursCancellation()
    {
        ((Action)(() => new NearDuplicateGrouper([1, 2], 3))).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => new NearDuplicateGrouper(-1))).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => new NearDuplicateGrouper(2).Group([H(0), PerceptualHash.FromUInt64(0, 16)]))).Should().Throw<ArgumentException>();
        ((Action)(() => new NearDuplicateGrouper([1, 1], 1).Group(new PerceptualHash[][] { [H(0)] }))).Should().Throw<ArgumentException>();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        ((Action)(() => new NearDuplicateGrouper(2).Group([H(0), H(1)], cancellationToken: cancelled.Token))).Should().Throw<OperationCanceledException>();
    }
}
