namespace DeepRetrieval.Torch.Data;

/// <summary>Argument checks shared by the <see cref="ITrainingImageSource"/> implementations.</summary>
internal static class BatchIndices
{
    /// <summary>Throws unless every batch exists and every index lies in [0, count).</summary>
    public static void Check(IReadOnlyList<long[]> batches, long count, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(batches, parameterName);
        for (int b = 0; b < batches.Count; b++)
        {
            if (batches[b] is null) throw new ArgumentException($"Batch {b} is null.", parameterName);
            foreach (long index in batches[b])
            {
                if ((ulong)index >= (ulong)count)
                    throw new ArgumentException($"Index {index} (batch {b}) is outside the set of {count} images.", parameterName);
            }
        }
    }
}
