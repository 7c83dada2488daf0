using System.Numerics.Tensors;

namespace DeepRetrieval.Transforms;

/// <summary>The argument checks every transform makes, with the messages the interface promises.</summary>
internal static class TransformRows
{
    /// <summary>Rows in <paramref name="vectors"/>; throws unless they are whole rows of finite, in-range values (<see cref="VectorValidation"/>).</summary>
    public static int Check(ReadOnlySpan<float> vectors, int dimension, string parameterName) =>
        VectorValidation.CheckRows(vectors, dimension, parameterName);

    /// <summary>
    /// The reverse of a linear map, for each row y of <paramref name="input"/>: x = offset + Σᵢ yᵢ · basisᵢ, where basis holds
    /// one row of the output width per input component and an empty <paramref name="offset"/> means zero. Allocation-free.
    /// </summary>
    public static void CombineRows(ReadOnlySpan<float> input, Span<float> output, ReadOnlySpan<float> basis, ReadOnlySpan<float> offset, int inputWidth, int outputWidth)
    {
        int rows = input.Length / inputWidth;
        for (int r = 0; r < rows; r++)
        {
            Span<float> x = output.Slice(r * outputWidth, outputWidth);
            if (offset.IsEmpty) x.Clear();
            else offset.CopyTo(x);
            ReadOnlySpan<float> y = input.Slice(r * inputWidth, inputWidth);
            for (int i = 0; i < inputWidth; i++) TensorPrimitives.MultiplyAdd(basis.Slice(i * outputWidth, outputWidth), y[i], x, x);
        }
    }

    /// <summary>Checks an input/output pair (whole rows of finite, in-range values; see <see cref="VectorValidation"/>) for a map from <paramref name="inputDimension"/> to <paramref name="outputDimension"/> components; returns the row count.</summary>
    public static int CheckPair(ReadOnlySpan<float> input, Span<float> output, int inputDimension, int outputDimension)
    {
        if (input.Length % inputDimension != 0)
            throw new ArgumentException($"Expected whole input rows of dimension {inputDimension}, but got {input.Length} values. Check the vectors' dimension.", nameof(input));
        VectorValidation.CheckValues(input, inputDimension, nameof(input));
        int rows = input.Length / inputDimension;
        if (output.Length != (long)rows * outputDimension)
            throw new ArgumentException($"The output must hold {rows} rows of dimension {outputDimension} ({(long)rows * outputDimension} values); got {output.Length}.", nameof(output));
        return rows;
    }
}
