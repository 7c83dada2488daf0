namespace DeepRetrieval;

/// <summary>Argument checks shared by the metrics and ranked lists, so every shape error is worded the same way.</summary>
internal static class ShapeGuard
{
    /// <summary>Returns the number of rows of a row-major span, rejecting empty or ragged input.</summary>
    internal static int RowCount(int length, int rowLength, string spanName, string rowLengthName)
    {
        if (rowLength <= 0)
            throw new ArgumentOutOfRangeException(rowLengthName, rowLength, $"{rowLengthName} must be positive.");
        if (length == 0)
            throw new ArgumentException($"{spanName} is empty; at least one query is needed.", spanName);
        if (length % rowLength != 0)
            throw new ArgumentException(
                $"{spanName} holds {length} values, which is not a whole number of rows of {rowLengthName} = {rowLength}.",
                spanName);
        return length / rowLength;
    }

    /// <summary>Rejects a cut-off outside 1..<paramref name="max"/>.</summary>
    internal static void CutOff(int k, int max, string kName, string maxName)
    {
        if (k <= 0 || k > max)
            throw new ArgumentOutOfRangeException(kName, k, $"{kName} must be between 1 and {maxName} ({max}).");
    }

    /// <summary>Rejects a per-query span whose length differs from the query count.</summary>
    internal static void OnePerQuery(int length, int queryCount, string spanName)
    {
        if (length != queryCount)
            throw new ArgumentException(
                $"{spanName} holds {length} values but there are {queryCount} queries; it needs one value per query.",
                spanName);
    }

    /// <summary>Rejects two spans that must pair up element by element but differ in length.</summary>
    internal static void SameLength(int length, int otherLength, string spanName, string otherName)
    {
        if (length != otherLength)
            throw new ArgumentException(
                $"{spanName} holds {length} values but {otherName} holds {otherLength}; they must have the same length.",
                spanName);
    }

    /// <summary>Rejects an empty span.</summary>
    internal static void NotEmpty(int length, string spanName)
    {
        if (length == 0)
            throw new ArgumentException($"{spanName} is empty.", spanName);
    }
}
