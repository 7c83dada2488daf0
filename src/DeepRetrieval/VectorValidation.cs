using System.Numerics.Tensors;

namespace DeepRetrieval;

/// <summary>
/// The one check every float-vector entry point makes (index adds, searches and training, transforms, quantizers,
/// k-means, LSH): whole rows of the dimension, no NaN or infinity, and no component so large that squared distances
/// overflow float. The bound is <see cref="MaxMagnitude"/> = √(<see cref="float.MaxValue"/> / (4·d)): for two vectors
/// within it, ‖x‖², ‖y‖², |x·y| and ‖x − y‖² = ‖x‖² + ‖y‖² − 2 x·y all stay at most <see cref="float.MaxValue"/>, so
/// no kernel (direct or through norms and dot products) can produce ∞ or NaN. Above it, exact matches used to vanish
/// and valid ids came back with NaN distances (issue 16, finding 4); rejecting such input with the row and component
/// named is the policy, as scaling silently would change the answers.
/// </summary>
internal static class VectorValidation
{
    /// <summary>The largest magnitude a component of a <paramref name="dimension"/>-dimensional vector may have: √(float.MaxValue / (4·d)), about 9.2·10¹⁸/√d.</summary>
    /// <param name="dimension">Components per vector; positive.</param>
    public static float MaxMagnitude(int dimension) => (float)Math.Sqrt(float.MaxValue / (4.0 * dimension));

    /// <summary>Checks that <paramref name="values"/> is whole rows of in-range values and returns the row count.</summary>
    /// <param name="values">Row-major vectors.</param>
    /// <param name="dimension">Components per row; positive.</param>
    /// <param name="parameterName">Named in the exception.</param>
    /// <param name="what">What the rows are, in messages ("vectors", "training points" …).</param>
    /// <exception cref="ArgumentException">Not whole rows, or a component is NaN, infinite or above <see cref="MaxMagnitude"/> (the message names its row and component).</exception>
    public static int CheckRows(ReadOnlySpan<float> values, int dimension, string parameterName, string what = "vectors")
    {
        if (values.Length % dimension != 0)
            throw new ArgumentException($"Expected whole rows of dimension {dimension}, but got {values.Length} values ({values.Length} is not a multiple of {dimension}). Check the {what}' dimension.", parameterName);
        CheckValues(values, dimension, parameterName, what);
        return values.Length / dimension;
    }

    /// <summary>Checks the components of whole rows (the row count is the caller's): finite and within <see cref="MaxMagnitude"/>.</summary>
    /// <param name="values">Row-major vectors whose length is a multiple of <paramref name="dimension"/>.</param>
    /// <param name="dimension">Components per row; positive.</param>
    /// <param name="parameterName">Named in the exception.</param>
    /// <param name="what">What the rows are, in messages.</param>
    public static void CheckValues(ReadOnlySpan<float> values, int dimension, string parameterName, string what = "vectors")
    {
        if (values.IsEmpty) return;
        float bound = MaxMagnitude(dimension);
        if (InRange(values, dimension)) return;
        int bad = 0;
        while (MathF.Abs(values[bad]) <= bound) bad++;
        float value = values[bad];
        string where = $"Row {bad / dimension}, component {bad % dimension} is {value}";
        if (!float.IsFinite(value))
            throw new ArgumentException($"{where}; {what} must be finite (no NaN or infinity).", parameterName);
        throw new ArgumentException($"{where}; components must be at most {bound:G3} in magnitude (√(float.MaxValue / (4·{dimension}))), or squared distances between {dimension}-dimensional {what} overflow float. Scale the {what} down.", parameterName);
    }

    /// <summary>Whether every component is finite and within <see cref="MaxMagnitude"/> (for load checks that build their own message).</summary>
    /// <param name="values">Row-major vectors.</param>
    /// <param name="dimension">Components per row; positive.</param>
    public static bool InRange(ReadOnlySpan<float> values, int dimension) =>
        // One vectorised pass. MaxMagnitude returns the signed value of largest magnitude, NaN when any value is NaN, so
        // the comparison fails for NaN, ±∞ and huge values alike.
        values.IsEmpty || MathF.Abs(TensorPrimitives.MaxMagnitude(values)) <= MaxMagnitude(dimension);
}
