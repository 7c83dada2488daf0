namespace DeepRetrieval.VectorData.Filtering;

/// <summary>
/// A filter over stored records, translated once from the application's LINQ expression and independent of the record
/// type: columns are named by storage name, constants are plain values. A sharded collection can send it to every shard and
/// have each compile it against its own rows (<see cref="FilterCompiler"/>).
/// </summary>
/// <remarks>Semantics are C#'s: <c>null == null</c> is true, <c>null != x</c> is true, an order comparison with null is false.</remarks>
public abstract record FilterNode;

/// <summary>A filter that is always true or always false.</summary>
/// <param name="Value">The result.</param>
public sealed record ConstantFilter(bool Value) : FilterNode;

/// <summary>Both operands hold.</summary>
/// <param name="Left">First operand.</param>
/// <param name="Right">Second operand.</param>
public sealed record AndFilter(FilterNode Left, FilterNode Right) : FilterNode;

/// <summary>Either operand holds.</summary>
/// <param name="Left">First operand.</param>
/// <param name="Right">Second operand.</param>
public sealed record OrFilter(FilterNode Left, FilterNode Right) : FilterNode;

/// <summary>The operand does not hold.</summary>
/// <param name="Operand">The operand.</param>
public sealed record NotFilter(FilterNode Operand) : FilterNode;

/// <summary>A single-value column (or the key) compared with a constant.</summary>
/// <param name="Column">Storage name.</param>
/// <param name="Operator">The comparison.</param>
/// <param name="Value">The constant (null for null tests).</param>
public sealed record ComparisonFilter(string Column, ComparisonOperator Operator, object? Value) : FilterNode;

/// <summary>A collection column (a tag list) contains the value: <c>r.Tags.Contains("x")</c>.</summary>
/// <param name="Column">Storage name.</param>
/// <param name="Value">The element sought.</param>
public sealed record ContainsFilter(string Column, object? Value) : FilterNode;

/// <summary>A single-value column (or the key) is one of the values: <c>new[] { 8, 10 }.Contains(r.Int)</c>.</summary>
/// <param name="Column">Storage name.</param>
/// <param name="Values">The allowed values.</param>
public sealed record InFilter(string Column, IReadOnlyList<object?> Values) : FilterNode;

/// <summary>A collection column shares an element with the values: <c>r.Tags.Any(t => wanted.Contains(t))</c>.</summary>
/// <param name="Column">Storage name.</param>
/// <param name="Values">The values sought.</param>
public sealed record AnyInFilter(string Column, IReadOnlyList<object?> Values) : FilterNode;
