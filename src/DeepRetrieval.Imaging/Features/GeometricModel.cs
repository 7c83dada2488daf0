namespace DeepRetrieval.Imaging.Features;

/// <summary>The transform RANSAC fits between matched keypoint positions.</summary>
public enum GeometricModel
{
    /// <summary>A full homography (8 degrees of freedom, 4 correspondences per sample): planar scenes, any viewpoint.</summary>
    Homography,

    /// <summary>An affine transform (6 degrees of freedom, 3 correspondences per sample): faster and more robust with few matches.</summary>
    Affine,
}
