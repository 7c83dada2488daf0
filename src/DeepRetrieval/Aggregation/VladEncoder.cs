using DeepRetrieval.Indexes;
using DeepRetrieval.Transforms;

namespace DeepRetrieval.Aggregation;

/// <summary>
/// VLAD, the vector of locally aggregated descriptors (Jégou, Douze, Schmid &amp; Pérez, CVPR 2010): each local
/// descriptor x is assigned to its nearest visual word c and the residuals x − c are summed per word, giving one
/// K·d vector per image that any vector index can hold (Jégou et al. pair it with PCA and product quantization).
/// Normalisations follow <see cref="VladOptions"/>; an optional trained <see cref="IVectorTransform"/> (typically
/// <see cref="PcaTransform"/> with whitening, Jégou &amp; Chum ECCV 2012) reduces the result, which is then
/// re-normalised.
/// </summary>
/// <remarks>Thread-safe: encoding keeps no state. An image without descriptors encodes to the zero vector.</remarks>
public sealed class VladEncoder
{
    /// <summary>Creates an encoder.</summary>
    /// <param name="vocabulary">The visual words (K × d); assignment uses its exact or approximate index.</param>
    /// <param name="options">Normalisations; null for SSR + L2.</param>
    /// <param name="projection">A trained transform from K·d to fewer dimensions (PCA, PCA-whitening, …); null for none.</param>
    /// <exception cref="ArgumentException">The power is out of range, or the projection is untrained or has another input dimension.</exception>
    public VladEncoder(VisualVocabulary vocabulary, VladOptions? options = null, IVectorTransform? projection = null)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        options ??= new VladOptions();
        if (!(options.Power > 0 && options.Power <= 1))
            throw new ArgumentOutOfRangeException(nameof(options), options.Power, "The VLAD power must be in (0, 1].");
        if (projection is not null)
        {
            if (!projection.IsTrained) throw new ArgumentException("The projection must be trained before it is used.", nameof(projection));
            if (projection.InputDimension != (long)vocabulary.Size * vocabulary.Dimension)
                throw new ArgumentException($"The projection takes {projection.InputDimension} inputs; VLAD has {(long)vocabulary.Size * vocabulary.Dimension}.", nameof(projection));
        }
        if ((long)vocabulary.Size * vocabulary.Dimension > Array.MaxLength)
            throw new ArgumentException("K × d is too large for one vector.", nameof(vocabulary));
        Vocabulary = vocabulary;
        Options = options;
        Projection = projection;
    }

    /// <summary>The visual words.</summary>
    public VisualVocabulary Vocabulary { get; }

    /// <summary>The normalisations.</summary>
    public VladOptions Options { get; }

    /// <summary>The reduction applied after normalisation, or null.</summary>
    public IVectorTransform? Projection { get; }

    /// <summary>K · d, the length before any projection.</summary>
    public int RawLength => Vocabulary.Size * Vocabulary.Dimension;

    /// <summary>The length of an encoded vector: the projection's output dimension, or K · d.</summary>
    public int Length => Projection?.OutputDimension ?? RawLength;

    /// <summary>Encodes one image's descriptors.</summary>
    /// <param name="descriptors">Row-major n × d descriptors of one image; may be empty.</param>
    /// <param name="assignment">Search options for the word assignment; null for defaults.</param>
    /// <exception cref="ArgumentException">The descriptor length does not match the vocabulary, or a value is not finite.</exception>
    public float[] Encode(ReadOnlySpan<float> descriptors, SearchOptions? assignment = null)
    {
        var result = new float[Length];
        Encode(descriptors, result, assignment);
        return result;
    }

    /// <summary>Encodes one image's descriptors into <paramref name="destination"/>.</summary>
    /// <param name="descriptors">Row-major n × d descriptors of one image; may be empty.</param>
    /// <param name="destination">Receives <see cref="Length"/> values.</param>
    /// <param name="assignment">Search options for the word assignment; null for defaults.</param>
    /// <exception cref="ArgumentException">The descriptor length does not match, the destination has the wrong size, or a value is not finite.</exception>
    public void Encode(ReadOnlySpan<float> descriptors, Span<float> destination, SearchOptions? assignment = null)
    {
        if (destination.Length != Length)
            throw new ArgumentException($"The destination must hold {Length} values; got {destination.Length}.", nameof(destination));
        int[] words = Vocabulary.Assign(descriptors, assignment);
        Span<float> raw = Projection is null ? destination : new float[RawLength];
        raw.Clear();
        int d = Vocabulary.Dimension;
        for (int i = 0; i < words.Length; i++)
        {
            Span<float> block = raw.Slice(words[i] * d, d);
            System.Numerics.Tensors.TensorPrimitives.Add(block, descriptors.Slice(i * d, d), block);
            System.Numerics.Tensors.TensorPrimitives.Subtract(block, Vocabulary.Centroid(words[i]), block);
        }
        if (words.Length == 0)
        {
            destination.Clear();
            return;
        }
        Normalize(raw, Options.Power, Options.IntraNormalization ? d : 0, Options.L2Normalization);
        if (Projection is not null)
        {
            Projection.Apply(raw, destination);
            if (Options.L2Normalization) Normalize(destination, 1, 0, true);
        }
    }

    /// <summary>
    /// Signed power (when <paramref name="power"/> ≠ 1), then L2 normalisation of each block of <paramref name="blockLength"/>
    /// values (when positive), then L2 normalisation of the whole vector (when asked). Zero blocks and vectors stay zero.
    /// Shared with Fisher vectors and NetVLAD-style pooling of deep features.
    /// </summary>
    internal static void Normalize(Span<float> vector, double power, int blockLength, bool l2)
    {
        if (power != 1)
        {
            float alpha = (float)power;
            for (int i = 0; i < vector.Length; i++)
            {
                float v = vector[i];
                vector[i] = alpha == 0.5f ? MathF.CopySign(MathF.Sqrt(MathF.Abs(v)), v) : MathF.CopySign(MathF.Pow(MathF.Abs(v), alpha), v);
            }
        }
        if (blockLength > 0)
        {
            for (int start = 0; start < vector.Length; start += blockLength)
                ScaleToUnit(vector.Slice(start, blockLength));
        }
        if (l2) ScaleToUnit(vector);
    }

    private static void ScaleToUnit(Span<float> values)
    {
        float norm = System.Numerics.Tensors.TensorPrimitives.Norm(values);
        if (norm > 0) System.Numerics.Tensors.TensorPrimitives.Multiply(values, 1f / norm, values);
    }
}
