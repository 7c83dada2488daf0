namespace DeepRetrieval.Datasets;

/// <summary>
/// A named list of labelled images (one split of a dataset) with the class names its labels index: the one shape
/// every loader returns, for training, extraction and evaluation alike.
/// </summary>
/// <param name="Name">The dataset and split, e.g. <c>cifar10/train</c>.</param>
/// <param name="Images">The images, in the dataset's order.</param>
/// <param name="ClassNames">Name of each label, indexed by label; empty when labels are bare ids (landmarks, identities).</param>
public sealed record ImageCollection(string Name, IReadOnlyList<DatasetImage> Images, IReadOnlyList<string> ClassNames)
{
    /// <summary>Number of images.</summary>
    public int Count => Images.Count;

    /// <summary>The label of every image, in order.</summary>
    public int[] Labels() => Images.Select(i => i.Label).ToArray();
}
