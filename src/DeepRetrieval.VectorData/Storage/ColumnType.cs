namespace DeepRetrieval.VectorData.Storage;

/// <summary>The stored type of a data column: a scalar kind, optionally nullable, optionally a collection of that kind.</summary>
/// <param name="Scalar">The scalar kind (of the elements, for a collection).</param>
/// <param name="Collection">Single value, array or list.</param>
/// <param name="IsNullable">
/// True when the column may hold null: <see cref="Nullable{T}"/> value types, strings and collections (reference types).
/// Elements of a string collection may be null too.
/// </param>
public readonly record struct ColumnType(ScalarKind Scalar, CollectionKind Collection, bool IsNullable)
{
    /// <summary>The scalar kinds a data column may hold, as .NET types (the non-nullable form).</summary>
    public static IReadOnlyDictionary<Type, ScalarKind> ScalarTypes { get; } = new Dictionary<Type, ScalarKind>
    {
        [typeof(bool)] = ScalarKind.Boolean,
        [typeof(byte)] = ScalarKind.Byte,
        [typeof(short)] = ScalarKind.Int16,
        [typeof(int)] = ScalarKind.Int32,
        [typeof(long)] = ScalarKind.Int64,
        [typeof(float)] = ScalarKind.Single,
        [typeof(double)] = ScalarKind.Double,
        [typeof(decimal)] = ScalarKind.Decimal,
        [typeof(string)] = ScalarKind.String,
        [typeof(Guid)] = ScalarKind.Guid,
        [typeof(DateTime)] = ScalarKind.DateTime,
        [typeof(DateTimeOffset)] = ScalarKind.DateTimeOffset,
        [typeof(DateOnly)] = ScalarKind.DateOnly,
        [typeof(TimeOnly)] = ScalarKind.TimeOnly,
    };

    /// <summary>The .NET types a data column may have, for error messages.</summary>
    public const string SupportedTypesDescription =
        "bool, byte, short, int, long, float, double, decimal, string, Guid, DateTime, DateTimeOffset, DateOnly, TimeOnly, their nullable forms, and arrays or List<T> of them";

    /// <summary>Maps a .NET property type to a column type.</summary>
    /// <param name="type">The property's type.</param>
    /// <param name="columnType">The column type when supported.</param>
    /// <returns>False when the type cannot be stored.</returns>
    public static bool TryFromClrType(Type type, out ColumnType columnType)
    {
        ArgumentNullException.ThrowIfNull(type);
        columnType = default;
        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            if (!ScalarTypes.TryGetValue(underlying, out ScalarKind nullableKind)) return false;
            columnType = new ColumnType(nullableKind, CollectionKind.None, true);
            return true;
        }
        if (ScalarTypes.TryGetValue(type, out ScalarKind kind))
        {
            columnType = new ColumnType(kind, CollectionKind.None, kind == ScalarKind.String);
            return true;
        }
        Type? element = type.IsArray && type.GetArrayRank() == 1 ? type.GetElementType()
            : type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>) ? type.GetGenericArguments()[0]
            : null;
        if (element is null || !ScalarTypes.TryGetValue(element, out ScalarKind elementKind)) return false;
        columnType = new ColumnType(elementKind, type.IsArray ? CollectionKind.Array : CollectionKind.List, true);
        return true;
    }

    /// <summary>The .NET type of one element (or of the value, for a single-value column), non-nullable.</summary>
    public Type ElementClrType => ClrTypeOf(Scalar);

    /// <summary>The .NET type of the column's values as the application sees them.</summary>
    public Type ClrType => Collection switch
    {
        CollectionKind.Array => ElementClrType.MakeArrayType(),
        CollectionKind.List => typeof(List<>).MakeGenericType(ElementClrType),
        _ => IsNullable && ElementClrType.IsValueType ? typeof(Nullable<>).MakeGenericType(ElementClrType) : ElementClrType,
    };

    /// <summary>The .NET type of a scalar kind.</summary>
    /// <param name="kind">The kind.</param>
    public static Type ClrTypeOf(ScalarKind kind) => kind switch
    {
        ScalarKind.Boolean => typeof(bool),
        ScalarKind.Byte => typeof(byte),
        ScalarKind.Int16 => typeof(short),
        ScalarKind.Int32 => typeof(int),
        ScalarKind.Int64 => typeof(long),
        ScalarKind.UInt64 => typeof(ulong),
        ScalarKind.Single => typeof(float),
        ScalarKind.Double => typeof(double),
        ScalarKind.Decimal => typeof(decimal),
        ScalarKind.String => typeof(string),
        ScalarKind.Guid => typeof(Guid),
        ScalarKind.DateTime => typeof(DateTime),
        ScalarKind.DateTimeOffset => typeof(DateTimeOffset),
        ScalarKind.DateOnly => typeof(DateOnly),
        ScalarKind.TimeOnly => typeof(TimeOnly),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown scalar kind."),
    };

    /// <inheritdoc />
    public override string ToString() => ClrType.Name;
}
