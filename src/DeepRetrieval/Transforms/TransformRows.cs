using System.Numerics.Tensors;

namespace DeepRetrieval.Transforms;

/// <summary>The argument checks every transform makes, with the messages the interface promises.</summary>
internal static class TransformRows
{
    /// <summary>Rows in <paramref name="vectors"/>; throws unless they are whole rows of finite values.</summary>
    public static int Check(ReadOnlySpan<float> vectors, int dimension, string parameterName)
    {
        if (vectors.Length % dimension != 0)
            throw new ArgumentException($"Expected whole rows of dimension {dimension}, but got {vectors.Length} values ({vectors.Length} is not a multiple of {dimension}). Check the vectors' dimension.", parameterName);
        if (!vectors.IsEmpty && !TensorPrimitives.IsFiniteAll(vectors))
        {
            int bad = 0;
            while (float.IsFinite(vectors[bad])) bad++;
            throw new ArgumentException($"Row {bad / dimension}, component {bad % dimension} is {vectors[bad]}; vectors must be finite (no NaN or infinity).", parameterName);
        }
        return vectors.Length / dimension;
    }

    /// <summary>Checks an input/output pair for a map from <paramref name="inputDimension"/> to <paramref name="outputDimension"/> components; returns the row count.</summary>
    public static int CheckPair(ReadOnlySpan<float> input, Span<float> output, int inputDimension, int outputDimension)
    {
        if (input.Length % inputDimension != 0)
            throw new ArgumentException($"Expected whole input rows of dimension {inputDimension}, but got {input.Length} values. Check the vectors' dimension.", nameof(input));
        int rows = input.Length / inputDimension;
        if (output.Length != (long)rows * outputDimension)
            throw new ArgumentException($"The output must hold {rows} rows of dimension {outputDimension} ({(long)rows * outputDimension} values); got {output.Length}.", nameof(output));
        return rows;
    }
}
