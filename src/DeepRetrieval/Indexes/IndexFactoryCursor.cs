using System.Globalization;

namespace DeepRetrieval.Indexes;

/// <summary>
/// Where <see cref="IndexFactory"/> is in a description string, handed to each kind's parser (<see cref="IndexKindDescriptor.Create"/>,
/// <see cref="IndexKindDescriptor.Wrap"/>, <see cref="TransformKind.Create"/>): the current token, the dimension at this point of the
/// chain, the metric asked for, the tokens that follow, and errors that name the token and its position.
/// </summary>
public sealed class IndexFactoryCursor
{
    private readonly string[] _tokens;
    private int _position;

    internal IndexFactoryCursor(string description, string[] tokens, Metric? metric, int dimension)
    {
        Description = description;
        _tokens = tokens;
        RequestedMetric = metric;
        Dimension = dimension;
    }

    /// <summary>The whole description.</summary>
    public string Description { get; }

    /// <summary>The token being parsed.</summary>
    public string Token => _tokens[_position];

    /// <summary>The 1-based position of <see cref="Token"/> in the description.</summary>
    public int Position => _position + 1;

    /// <summary>Components per vector at this point: the input dimension, or the last transform's output dimension.</summary>
    public int Dimension { get; internal set; }

    /// <summary>The metric the caller asked for, or null when it left the choice to each kind.</summary>
    public Metric? RequestedMetric { get; }

    /// <summary>
    /// The metric for an index that compares float vectors: the one asked for, <see cref="Metric.L2"/> by default.
    /// </summary>
    /// <exception cref="ArgumentException"><see cref="Metric.Hamming"/> was asked for (the error names the token).</exception>
    public Metric FloatMetric => RequestedMetric switch
    {
        null => Metric.L2,
        Metric.Hamming => throw Error("compares float vectors and cannot use Metric.Hamming; Hamming distances come from binary kinds such as BFlat or LSH"),
        Metric metric => metric,
    };

    /// <summary>Every token of the description, trimmed.</summary>
    public IReadOnlyList<string> Tokens => _tokens;

    /// <summary>True when tokens follow the current one.</summary>
    public bool HasNext => _position + 1 < _tokens.Length;

    /// <summary>The token after the current one, or null at the end.</summary>
    public string? PeekNext() => HasNext ? _tokens[_position + 1] : null;

    /// <summary>Makes the next token current (a kind that spans several tokens consumes its extra ones with it).</summary>
    /// <returns>The new current token.</returns>
    /// <exception cref="ArgumentException">No token follows; the message says what was expected.</exception>
    public string TakeNext(string expected)
    {
        if (!HasNext) throw Error($"must be followed by {expected}");
        _position++;
        return Token;
    }

    /// <summary>An <see cref="ArgumentException"/> saying the current token has <paramref name="problem"/>, naming the description, the token and its position.</summary>
    /// <param name="problem">What is wrong, as the end of a sentence that starts with the token (for example "needs its bit count, e.g. LSH256").</param>
    public ArgumentException Error(string problem) => ErrorAt(_position, problem);

    /// <summary>Runs a constructor, reporting its <see cref="ArgumentException"/> against the current token.</summary>
    /// <typeparam name="T">What is built.</typeparam>
    /// <param name="create">The constructor call.</param>
    public T Build<T>(Func<T> create)
    {
        ArgumentNullException.ThrowIfNull(create);
        int at = _position;
        try
        {
            return create();
        }
        catch (ArgumentException e) when (e.ParamName != "description")
        {
            throw ErrorAt(at, $"does not fit here: {e.Message}");
        }
    }

    /// <summary>
    /// True when <paramref name="token"/> is <paramref name="prefix"/> alone or followed by a digit (so <c>PQ16</c> matches
    /// <c>PQ</c> but <c>PQR</c> does not); <paramref name="rest"/> is what follows the prefix.
    /// </summary>
    /// <param name="token">A token.</param>
    /// <param name="prefix">The kind's prefix, case-sensitive as in Faiss.</param>
    /// <param name="rest">The text after the prefix; empty when the token does not match.</param>
    public static bool TryMatch(string token, string prefix, out string rest)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(prefix);
        bool match = token == prefix
            || (token.StartsWith(prefix, StringComparison.Ordinal) && token.Length > prefix.Length && char.IsAsciiDigit(token[prefix.Length]));
        rest = match ? token[prefix.Length..] : "";
        return match;
    }

    /// <summary>Parses a positive whole number written with digits only.</summary>
    /// <param name="digits">The text.</param>
    /// <param name="value">The number.</param>
    public static bool TryParseCount(string digits, out int value) =>
        int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value > 0;

    internal void MoveTo(int position) => _position = position;

    internal int Index => _position;

    internal ArgumentException ErrorAt(int position, string problem) =>
        new($"Index description \"{Description}\": token {position + 1} \"{_tokens[Math.Min(position, _tokens.Length - 1)]}\" {problem}.", "description");
}
