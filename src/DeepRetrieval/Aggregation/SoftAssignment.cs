namespace DeepRetrieval.Aggregation;

/// <summary>
/// Kernel soft assignment of local descriptors to visual words (Philbin et al., "Lost in quantization", CVPR 2008):
/// each descriptor goes to its <see cref="Neighbours"/> nearest words with weights exp(−d²/2σ²) normalised to sum to 1.
/// Row i of <see cref="Words"/> and <see cref="Weights"/> (length <see cref="Neighbours"/>) belongs to descriptor i;
/// a word of −1 marks a missing neighbour (vocabulary smaller than the neighbour count) with weight 0.
/// </summary>
public sealed class SoftAssignment
{
    internal SoftAssignment(int vocabularySize, int neighbours, int[] words, float[] weights)
    {
        VocabularySize = vocabularySize;
        Neighbours = neighbours;
        Words = words;
        Weights = weights;
    }

    /// <summary>Words in the vocabulary.</summary>
    public int VocabularySize { get; }

    /// <summary>Words each descriptor is assigned to.</summary>
    public int Neighbours { get; }

    /// <summary>Number of descriptors.</summary>
    public int Count => Neighbours == 0 ? 0 : Words.Length / Neighbours;

    /// <summary>Row-major descriptors × <see cref="Neighbours"/> word indices, nearest first.</summary>
    public int[] Words { get; }

    /// <summary>Row-major descriptors × <see cref="Neighbours"/> weights; each row sums to 1.</summary>
    public float[] Weights { get; }
}
