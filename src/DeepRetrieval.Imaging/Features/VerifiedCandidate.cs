namespace DeepRetrieval.Imaging.Features;

/// <summary>A short-list entry after spatial verification.</summary>
/// <param name="Id">The database image id.</param>
/// <param name="RetrievalScore">The score the short list gave it.</param>
/// <param name="Inliers">Inliers of the best transform to the query; 0 when none was found.</param>
/// <param name="VerificationScore">The MSAC score of that transform (see <see cref="GeometricVerification.Score"/>).</param>
/// <param name="OriginalRank">Zero-based position in the short list.</param>
/// <param name="Verified">True when <paramref name="Inliers"/> reached <see cref="SpatialRerankOptions.MinimumInliers"/>.</param>
public readonly record struct VerifiedCandidate(long Id, float RetrievalScore, int Inliers, double VerificationScore, int OriginalRank, bool Verified);
