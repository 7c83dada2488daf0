using DeepRetrieval.VectorData.Storage;

namespace DeepRetrieval.VectorData.Filtering;

/// <summary>
/// Compiles a <see cref="FilterNode"/> into a predicate over stored rows, once per query; the predicate is what the index
/// calls for each candidate id (its pre-filter). Constants are converted to the column's kind up front, so the per-row work
/// is a field read and one comparison.
/// </summary>
public static class FilterCompiler
{
    /// <summary>Compiles a filter against a schema.</summary>
    /// <param name="filter">The filter.</param>
    /// <param name="schema">The schema its column names refer to.</param>
    /// <returns>A thread-safe predicate.</returns>
    /// <exception cref="InvalidOperationException">A column does not exist.</exception>
    /// <exception cref="NotSupportedException">An operation does not fit the column (an order comparison on a string or bool, <c>Contains</c> on a single value …).</exception>
    public static Func<RecordRow, bool> Compile(FilterNode filter, RecordSchema schema)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(schema);
        return filter switch
        {
            ConstantFilter c => c.Value ? static _ => true : static _ => false,
            AndFilter a => And(Compile(a.Left, schema), Compile(a.Right, schema)),
            OrFilter o => Or(Compile(o.Left, schema), Compile(o.Right, schema)),
            NotFilter n => Not(Compile(n.Operand, schema)),
            ComparisonFilter c => Comparison(c, schema),
            ContainsFilter c => Contains(c, schema),
            InFilter i => In(i, schema),
            AnyInFilter a => AnyIn(a, schema),
            _ => throw new NotSupportedException($"Unknown filter node {filter.GetType().Name}."),
        };
    }

    private static Func<RecordRow, bool> And(Func<RecordRow, bool> left, Func<RecordRow, bool> right) => r => left(r) && right(r);

    private static Func<RecordRow, bool> Or(Func<RecordRow, bool> left, Func<RecordRow, bool> right) => r => left(r) || right(r);

    private static Func<RecordRow, bool> Not(Func<RecordRow, bool> operand) => r => !operand(r);

    private static (Func<RecordRow, object?> Get, ColumnType Type) Resolve(string column, RecordSchema schema)
    {
        if (column == schema.Key.Name) return (static r => r.Key, new ColumnType(schema.Key.Kind, CollectionKind.None, false));
        int d = schema.DataColumnIndex(column);
        if (d >= 0) return (r => r.Values[d], schema.Data[d].Type);
        if (schema.VectorColumnIndex(column) >= 0)
            throw new NotSupportedException($"Filters cannot test the vector property '{column}'; filter on the key or data properties.");
        throw new InvalidOperationException($"Property '{column}' used in the filter is not a property of the collection.");
    }

    private static Func<RecordRow, bool> Comparison(ComparisonFilter filter, RecordSchema schema)
    {
        var (get, type) = Resolve(filter.Column, schema);
        if (type.Collection != CollectionKind.None)
            throw new NotSupportedException($"'{filter.Column}' holds a collection; filters can test it with Contains or Any, not {filter.Operator}.");
        object? constant = filter.Value;
        ComparisonOperator op = filter.Operator;
        if (op is ComparisonOperator.Equal or ComparisonOperator.NotEqual)
        {
            bool equal = op == ComparisonOperator.Equal;
            if (constant is null) return r => get(r) is null == equal;
            if (!ScalarValues.TryConvertExact(constant, type.Scalar, out object converted))
            {
                if (ScalarValues.KindOf(constant) is not { } k || ScalarValues.IsNumeric(k) != ScalarValues.IsNumeric(type.Scalar))
                    throw new NotSupportedException($"'{filter.Column}' ({type}) cannot be compared with a {constant.GetType().Name}.");
                return r => !equal; // a number no value of the column can equal (300 for a byte)
            }
            if (converted is string s) return r => string.Equals(get(r) as string, s, StringComparison.Ordinal) == equal;
            return r => converted.Equals(get(r)) == equal;
        }
        if (!ScalarValues.IsOrdered(type.Scalar))
            throw new NotSupportedException($"'{filter.Column}' is a {type}; only numbers, dates, times and Guids can be compared with {op}.");
        if (constant is null) return static _ => false;
        if (ScalarValues.KindOf(constant) is not { } kind || !(kind == type.Scalar || ScalarValues.IsNumeric(kind) && ScalarValues.IsNumeric(type.Scalar)))
            throw new NotSupportedException($"'{filter.Column}' ({type}) cannot be compared with a {constant.GetType().Name}.");
        Func<int, bool> test = op switch
        {
            ComparisonOperator.LessThan => static c => c < 0,
            ComparisonOperator.LessThanOrEqual => static c => c <= 0,
            ComparisonOperator.GreaterThan => static c => c > 0,
            ComparisonOperator.GreaterThanOrEqual => static c => c >= 0,
            _ => throw new NotSupportedException($"Unknown comparison {op}."),
        };
        if (kind == type.Scalar)
        {
            var comparable = (IComparable)constant;
            return r => get(r) is { } v && test(-Math.Sign(comparable.CompareTo(v)));
        }
        return r => get(r) is { } v && test(ScalarValues.Compare(v, constant));
    }

    private static Func<RecordRow, bool> Contains(ContainsFilter filter, RecordSchema schema)
    {
        var (get, type) = Resolve(filter.Column, schema);
        if (type.Collection == CollectionKind.None)
            throw new NotSupportedException($"'{filter.Column}' holds a single value; Contains applies to array and list properties.");
        object? item = filter.Value;
        if (item is not null)
        {
            if (!ScalarValues.TryConvertExact(item, type.Scalar, out object converted)) return static _ => false;
            item = converted;
        }
        return r => ScalarValues.CollectionContains(get(r), item);
    }

    private static Func<RecordRow, bool> In(InFilter filter, RecordSchema schema)
    {
        var (get, type) = Resolve(filter.Column, schema);
        if (type.Collection != CollectionKind.None)
            throw new NotSupportedException($"'{filter.Column}' holds a collection; test its elements with Any(x => values.Contains(x)).");
        (HashSet<object> set, bool hasNull) = ValueSet(filter.Values, type.Scalar);
        return r => get(r) is { } v ? set.Contains(v) : hasNull;
    }

    private static Func<RecordRow, bool> AnyIn(AnyInFilter filter, RecordSchema schema)
    {
        var (get, type) = Resolve(filter.Column, schema);
        if (type.Collection == CollectionKind.None)
            throw new NotSupportedException($"'{filter.Column}' holds a single value; use values.Contains(r.{filter.Column}) instead of Any.");
        (HashSet<object> set, bool hasNull) = ValueSet(filter.Values, type.Scalar);
        return r =>
        {
            if (get(r) is not System.Collections.IList list) return false;
            foreach (object? element in list)
                if (element is null ? hasNull : set.Contains(element)) return true;
            return false;
        };
    }

    // Values converted to the column's kind; values that no element of that kind can equal are dropped.
    private static (HashSet<object> Set, bool HasNull) ValueSet(IReadOnlyList<object?> values, ScalarKind kind)
    {
        ArgumentNullException.ThrowIfNull(values);
        var set = new HashSet<object>();
        bool hasNull = false;
        foreach (object? value in values)
        {
            if (value is null) hasNull = true;
            else if (ScalarValues.TryConvertExact(value, kind, out object converted)) set.Add(converted);
        }
        return (set, hasNull);
    }
}
