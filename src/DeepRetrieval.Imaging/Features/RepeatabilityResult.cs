namespace DeepRetrieval.Imaging.Features;

/// <summary>Detector repeatability and descriptor matching score for one image pair with a known homography.</summary>
/// <param name="CommonRegions1">Keypoints of image 1 whose regions lie inside image 1 and, mapped by the homography, inside image 2.</param>
/// <param name="CommonRegions2">The same for image 2 (mapped back into image 1).</param>
/// <param name="Correspondences">One-to-one region pairs with overlap error below the threshold (greedy, best overlap first).</param>
/// <param name="Repeatability">Correspondences / min(common regions 1, common regions 2); 0 when either is 0.</param>
/// <param name="CorrectMatches">One-to-one nearest-neighbour descriptor matches whose regions also overlap enough.</param>
/// <param name="MatchingScore">Correct matches / min(common regions 1, common regions 2); 0 when there are no descriptors or regions.</param>
public readonly record struct RepeatabilityResult(int CommonRegions1, int CommonRegions2, int Correspondences, double Repeatability, int CorrectMatches, double MatchingScore);
