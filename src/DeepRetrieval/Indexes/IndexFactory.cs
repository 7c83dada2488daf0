namespace DeepRetrieval.Indexes;

/// <summary>
/// Builds an index from a short description string, as Faiss's <c>index_factory</c>: comma-separated tokens
/// read left to right (transforms, then the index, then refinement). This release knows <c>Flat</c>.
/// </summary>
public static class IndexFactory
{
    /// <summary>Creates an empty index described by <paramref name="description"/>.</summary>
    /// <param name="dimension">Components per vector.</param>
    /// <param name="description">For example <c>Flat</c>. Tokens are case-sensitive, as in Faiss.</param>
    /// <param name="metric">How vectors are compared.</param>
    /// <exception cref="ArgumentException">The string is empty, or a token is unknown or malformed; the message names the token and its position.</exception>
    public static IVectorIndex Create(int dimension, string description, Metric metric = Metric.L2)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentNullException.ThrowIfNull(description);
        string[] tokens = description.Split(',');
        if (description.Trim().Length == 0)
            throw new ArgumentException("The index description is empty; try \"Flat\".", nameof(description));
        for (int i = 0; i < tokens.Length; i++)
        {
            string token = tokens[i].Trim();
            if (token.Length == 0)
                throw new ArgumentException($"Index description \"{description}\": token {i + 1} is empty (a stray comma?).", nameof(description));
        }
        if (tokens.Length == 1 && tokens[0].Trim() == FlatIndex.KindName)
            return new FlatIndex(dimension, metric);

        string first = tokens[0].Trim();
        string problem = first == FlatIndex.KindName
            ? $"token 2 \"{tokens[1].Trim()}\" cannot follow Flat, which stores raw vectors and takes no further encoding"
            : $"token 1 \"{first}\" is not a known index kind (known: {FlatIndex.KindName})";
        throw new ArgumentException($"Index description \"{description}\": {problem}.", nameof(description));
    }
}
