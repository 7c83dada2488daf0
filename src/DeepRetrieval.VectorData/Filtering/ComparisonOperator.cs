namespace DeepRetrieval.VectorData.Filtering;

/// <summary>The comparison of a <see cref="ComparisonFilter"/>.</summary>
public enum ComparisonOperator : byte
{
    /// <summary><c>==</c>.</summary>
    Equal = 1,

    /// <summary><c>!=</c>.</summary>
    NotEqual = 2,

    /// <summary><c>&lt;</c>.</summary>
    LessThan = 3,

    /// <summary><c>&lt;=</c>.</summary>
    LessThanOrEqual = 4,

    /// <summary><c>&gt;</c>.</summary>
    GreaterThan = 5,

    /// <summary><c>&gt;=</c>.</summary>
    GreaterThanOrEqual = 6,
}
