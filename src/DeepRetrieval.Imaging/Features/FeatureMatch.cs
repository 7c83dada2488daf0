namespace DeepRetrieval.Imaging.Features;

/// <summary>A tentative correspondence between two feature sets, as OpenCV's <c>DMatch</c>.</summary>
/// <param name="QueryIndex">Row of the query descriptor (keypoint index in the query image).</param>
/// <param name="TrainIndex">Row of the train descriptor (keypoint index in the other image).</param>
/// <param name="Distance">Euclidean (not squared) distance between the two descriptors.</param>
public readonly record struct FeatureMatch(int QueryIndex, int TrainIndex, float Distance);
