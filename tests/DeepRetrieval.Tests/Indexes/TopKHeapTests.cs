using DeepRetrieval.Indexes;

namespace DeepRetrieval.Tests.Indexes;

public class TopKHeapTests
{
    [Fact]
    public void KeepsTheKSmallest_SortedAscending()
    {
        var keys = new float[3];
        var ids = new long[3];
        var heap = new TopKHeap(keys, ids);
        float[] values = [5f, 1f, 4f, 2f, 8f, 0.5f, 3f];
        for (int i = 0; i < values.Length; i++) heap.Push(values[i], i);
        heap.SortAndPad().Should().Be(3);
        keys.Should().Equal(0.5f, 1f, 2f);
        ids.Should().Equal(5L, 1L, 3L);
    }

    [Fact]
    public void BreaksTiesByAscendingId_WhateverTheArrivalOrder()
    {
        var keys = new float[2];
        var ids = new long[2];
        var heap = new TopKHeap(keys, ids);
        heap.Push(1f, 9);
        heap.Push(1f, 7);
        heap.Push(1f, 3);
        heap.Push(1f, 8);
        heap.SortAndPad();
        ids.Should().Equal(3L, 7L);
    }

    [Fact]
    public void PadsMissingSlots_WhenFewerThanKCandidates()
    {
        var keys = new float[4];
        var ids = new long[4];
        var heap = new TopKHeap(keys, ids);
        heap.Push(2f, 1);
        heap.SortAndPad().Should().Be(1);
        ids.Should().Equal(1L, -1L, -1L, -1L);
        float.IsNaN(keys[1]).Should().BeTrue();
    }

    [Fact]
    public void MatchesFullSort_OnRandomKeys()
    {
        var random = new Random(11);
        float[] values = Enumerable.Range(0, 5000).Select(_ => (float)random.Next(100)).ToArray(); // many ties
        var keys = new float[50];
        var ids = new long[50];
        var heap = new TopKHeap(keys, ids);
        for (int i = 0; i < values.Length; i++) heap.Push(values[i], i);
        heap.SortAndPad();
        var expected = values.Select((v, i) => (v, (long)i)).OrderBy(p => p.v).ThenBy(p => p.Item2).Take(50).ToArray();
        ids.Should().Equal(expected.Select(p => p.Item2));
        keys.Should().Equal(expected.Select(p => p.v));
    }

    [Fact]
    public void Resume_ContinuesAnEarlierHeap()
    {
        var keys = new float[2];
        var ids = new long[2];
        var first = new TopKHeap(keys, ids);
        first.Push(3f, 1);
        var resumed = new TopKHeap(keys, ids, first.Count);
        resumed.Push(1f, 2);
        resumed.Push(2f, 3);
        resumed.SortAndPad();
        ids.Should().Equal(2L, 3L);
    }
}
