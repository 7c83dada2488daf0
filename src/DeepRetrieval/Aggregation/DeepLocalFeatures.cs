namespace DeepRetrieval.Aggregation;

/// <summary>
/// Local descriptors taken from the cells of a CNN or transformer feature map (one descriptor per spatial position),
/// with each cell's position in input pixels and its strength (activation L2 norm), ready for
/// <see cref="VisualVocabulary"/>, <see cref="VladEncoder"/>, <see cref="FisherVectorEncoder"/>,
/// <see cref="AsmkIndex"/> or an <see cref="InvertedFile"/>.
/// </summary>
public sealed class DeepLocalFeatures
{
    internal DeepLocalFeatures(float[] descriptors, int dimension, float[] x, float[] y, float[] strengths)
    {
        Descriptors = descriptors;
        Dimension = dimension;
        X = x;
        Y = y;
        Strengths = strengths;
    }

    /// <summary>Row-major <see cref="Count"/> × <see cref="Dimension"/> descriptors, strongest first.</summary>
    public float[] Descriptors { get; }

    /// <summary>Components per descriptor (the map's channel count).</summary>
    public int Dimension { get; }

    /// <summary>Number of descriptors.</summary>
    public int Count => X.Length;

    /// <summary>Column of each cell's centre in input pixels: (j + 0.5) · stride − 0.5.</summary>
    public float[] X { get; }

    /// <summary>Row of each cell's centre in input pixels: (i + 0.5) · stride − 0.5.</summary>
    public float[] Y { get; }

    /// <summary>Each cell's activation L2 norm, measured before any normalisation.</summary>
    public float[] Strengths { get; }
}
