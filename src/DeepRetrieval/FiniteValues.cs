using System.Numerics.Tensors;

namespace DeepRetrieval;

/// <summary>NaN/infinity checks over spans.</summary>
internal static class FiniteValues
{
    // TensorPrimitives.IsFiniteAll answers false for an empty span; an empty set of values holds nothing non-finite.
    public static bool All(ReadOnlySpan<float> values) => values.IsEmpty || TensorPrimitives.IsFiniteAll(values);
}
