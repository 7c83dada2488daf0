using DeepRetrieval.Aggregation;
using DeepRetrieval.Imaging.Features;

namespace DeepRetrieval.Imaging.Tests.Features;

public class SpatialRerankerTests
{
    [Fact]
    public void Rerank_MovesTheGeometricallyConsistentImageToTheFront()
    {
        // The short list ranks coffee images above the true match (a homography of chelsea).
        var features = new Dictionary<long, LocalFeatures>
        {
            [10] = SiftFixtures.OpenCv("coffee"),
            [11] = SiftFixtures.OpenCv("coffee_warp"),
            [12] = SiftFixtures.OpenCv("chelsea_warp"),
        };
        LocalFeatures query = SiftFixtures.OpenCv("chelsea");
        ScoredImage[] shortList = [new(10, 0.9f), new(11, 0.8f), new(12, 0.7f)];
        VerifiedCandidate[] reranked = SpatialReranker.Rerank(query, shortList, id => features[id]);
        reranked.Select(c => c.Id).Should().Equal(12, 10, 11);
        reranked[0].Verified.Should().BeTrue();
        reranked[0].Inliers.Should().BeGreaterThan(40);
        reranked[0].OriginalRank.Should().Be(2);
        reranked[0].RetrievalScore.Should().Be(0.7f);
        reranked.Skip(1).Should().OnlyContain(c => !c.Verified);
    }

    [Fact]
    public void WordCorrespondences_PairFeaturesSharingRareWords()
    {
        // Word 3 occurs once in each image: one pair. Word 5: 2 × 1 = 2 pairs. Word 7: 3 times in the query, above the limit 2.
        int[] query = [3, 5, 5, 7, 7, 7, 9];
        int[] candidate = [5, 7, 3, 8];
        FeatureMatch[] pairs = SpatialReranker.WordCorrespondences(query, candidate, maxOccurrences: 2);
        pairs.Select(p => (p.QueryIndex, p.TrainIndex)).Should().Equal((0, 2), (1, 0), (2, 0));
    }

    [Fact]
    public void RerankByWords_VerifiesWithVisualWordsOnly()
    {
        // Words are the index of the OpenCV keypoint nearest to each keypoint's true position in the other image, so
        // shared words are exactly the geometric correspondences; the distractor's words are shuffled.
        LocalFeatures a = SiftFixtures.OpenCv("chelsea"), b = SiftFixtures.OpenCv("chelsea_warp");
        Homography h = SiftFixtures.HomographyOf("chelsea");
        int[] wordsA = Enumerable.Range(0, a.Count).ToArray();
        int[] wordsB = b.Keypoints.Select(k =>
        {
            var (x, y) = h.Inverse().Transform(k.X, k.Y);
            int best = 0;
            double bestDistance = double.MaxValue;
            for (int i = 0; i < a.Count; i++)
            {
                double d = (a.Keypoints[i].X - x) * (a.Keypoints[i].X - x) + (a.Keypoints[i].Y - y) * (a.Keypoints[i].Y - y);
                if (d < bestDistance) (best, bestDistance) = (i, d);
            }
            return bestDistance < 4 ? best : -1 - best;
        }).ToArray();
        int[] shuffled = wordsB.OrderBy(w => (w * 7919) % 1009).ToArray();
        var stored = new Dictionary<long, (Keypoint[], int[])> { [1] = (b.Keypoints, shuffled), [2] = (b.Keypoints, wordsB) };
        VerifiedCandidate[] reranked = SpatialReranker.RerankByWords(a.Keypoints, wordsA, [new(1, 1f), new(2, 0.5f)], id => stored[id]);
        reranked[0].Id.Should().Be(2);
        reranked[0].Verified.Should().BeTrue();
    }

    [Fact]
    public void BadArguments_AreRejected()
    {
        FluentActions.Invoking(() => SpatialReranker.RerankByWords([new Keypoint()], [], [], _ => ([], [])))
            .Should().Throw<ArgumentException>().WithMessage("*1 query keypoints but 0 words*");
        FluentActions.Invoking(() => SpatialReranker.Rerank(LocalFeatures.Empty(128), [], _ => LocalFeatures.Empty(128), new SpatialRerankOptions { MinimumInliers = -1 }))
            .Should().Throw<ArgumentOutOfRangeException>();
        SpatialReranker.Rerank(LocalFeatures.Empty(128), [new(4, 1f)], _ => LocalFeatures.Empty(128)).Should().ContainSingle().Which.Verified.Should().BeFalse();
    }
}
