using System.Collections;

namespace DeepRetrieval.VectorData.Storage;

/// <summary>
/// Value rules shared by filters, ordering and validation: C# semantics for equality and ordering of the stored scalar kinds
/// (numbers compare across kinds by value, strings ordinally, <see cref="DateTimeOffset"/> as instants), and exact conversion
/// of filter constants to a column's kind.
/// </summary>
public static class ScalarValues
{
    /// <summary>The kind of a boxed scalar value, or null when it is not a storable scalar.</summary>
    /// <param name="value">A value.</param>
    public static ScalarKind? KindOf(object value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value is ulong) return ScalarKind.UInt64;
        return ColumnType.ScalarTypes.TryGetValue(value.GetType(), out ScalarKind kind) ? kind : null;
    }

    /// <summary>True for the numeric kinds, which compare with each other by value.</summary>
    /// <param name="kind">A kind.</param>
    public static bool IsNumeric(ScalarKind kind) => kind is ScalarKind.Byte or ScalarKind.Int16 or ScalarKind.Int32 or ScalarKind.Int64
        or ScalarKind.UInt64 or ScalarKind.Single or ScalarKind.Double or ScalarKind.Decimal;

    /// <summary>True for kinds with an order (C#'s &lt; and &gt;): numbers, dates and times, <see cref="Guid"/>.</summary>
    /// <param name="kind">A kind.</param>
    public static bool IsOrdered(ScalarKind kind) => IsNumeric(kind) || kind is ScalarKind.DateTime or ScalarKind.DateTimeOffset
        or ScalarKind.DateOnly or ScalarKind.TimeOnly or ScalarKind.Guid;

    /// <summary>
    /// Compares two non-null values of kinds that can be compared (equal kinds, or two numeric kinds); strings ordinally.
    /// </summary>
    /// <param name="a">First value.</param>
    /// <param name="b">Second value.</param>
    /// <exception cref="ArgumentException">The values cannot be compared.</exception>
    public static int Compare(object a, object b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a is string sa && b is string sb) return string.CompareOrdinal(sa, sb);
        ScalarKind ka = KindOf(a) ?? throw Incomparable(a, b);
        ScalarKind kb = KindOf(b) ?? throw Incomparable(a, b);
        if (ka == kb) return ((IComparable)a).CompareTo(b);
        if (!IsNumeric(ka) || !IsNumeric(kb)) throw Incomparable(a, b);
        if (ka is ScalarKind.Single or ScalarKind.Double || kb is ScalarKind.Single or ScalarKind.Double)
            return ToDouble(a).CompareTo(ToDouble(b));
        return ToDecimal(a).CompareTo(ToDecimal(b));
    }

    /// <summary>C# equality of two values, either of which may be null; numbers of different kinds compare by value.</summary>
    /// <param name="a">First value.</param>
    /// <param name="b">Second value.</param>
    public static new bool Equals(object? a, object? b)
    {
        if (a is null || b is null) return a is null && b is null;
        if (a is string sa) return b is string sb && string.Equals(sa, sb, StringComparison.Ordinal);
        if (a.GetType() == b.GetType()) return a.Equals(b);
        ScalarKind? ka = KindOf(a), kb = KindOf(b);
        return ka is { } x && kb is { } y && IsNumeric(x) && IsNumeric(y) && Compare(a, b) == 0;
    }

    /// <summary>
    /// Converts a filter constant to <paramref name="kind"/> when the conversion loses nothing (8 to a byte column, 8.0 to an
    /// int column); returns false when the value cannot equal any value of that kind (300 for a byte column, "x" for an int).
    /// </summary>
    /// <param name="value">A non-null constant.</param>
    /// <param name="kind">The column's kind.</param>
    /// <param name="converted">The value as <paramref name="kind"/>.</param>
    public static bool TryConvertExact(object value, ScalarKind kind, out object converted)
    {
        ArgumentNullException.ThrowIfNull(value);
        converted = value;
        ScalarKind? source = KindOf(value);
        if (source == kind) return true;
        if (source is not { } from || !IsNumeric(from) || !IsNumeric(kind)) return false;
        try
        {
            decimal exact = from is ScalarKind.Single or ScalarKind.Double ? (decimal)ToDouble(value) : ToDecimal(value);
            if (from is ScalarKind.Single or ScalarKind.Double && (double)exact != ToDouble(value)) return false;
            converted = kind switch
            {
                ScalarKind.Byte => (object)(byte)exact,
                ScalarKind.Int16 => (short)exact,
                ScalarKind.Int32 => (int)exact,
                ScalarKind.Int64 => (long)exact,
                ScalarKind.UInt64 => (ulong)exact,
                ScalarKind.Single => (float)exact,
                ScalarKind.Double => (double)exact,
                _ => exact,
            };
            return Compare(converted, value) == 0;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    /// <summary>True when a collection value (an array or list) holds an element equal to <paramref name="item"/>.</summary>
    /// <param name="collection">The collection, or null.</param>
    /// <param name="item">The element sought.</param>
    public static bool CollectionContains(object? collection, object? item)
    {
        if (collection is not IList list) return false;
        if (list is string[] strings)
        {
            if (item is not (string or null)) return false;
            foreach (string? s in strings)
                if (string.Equals(s, (string?)item, StringComparison.Ordinal)) return true;
            return false;
        }
        foreach (object? element in list)
            if (Equals(element, item)) return true;
        return false;
    }

    private static double ToDouble(object value) => value switch
    {
        float f => f,
        double d => d,
        decimal m => (double)m,
        _ => (double)ToDecimal(value),
    };

    private static decimal ToDecimal(object value) => value switch
    {
        byte b => b,
        short s => s,
        int i => i,
        long l => l,
        ulong u => u,
        decimal m => m,
        float f => (decimal)f,
        double d => (decimal)d,
        _ => throw new ArgumentException($"{value.GetType().Name} is not a number."),
    };

    private static ArgumentException Incomparable(object a, object b) =>
        new($"A {a.GetType().Name} cannot be compared with a {b.GetType().Name}.");
}
