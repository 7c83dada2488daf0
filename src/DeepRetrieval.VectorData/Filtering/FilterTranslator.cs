using System.Collections;
using System.Linq.Expressions;
using Microsoft.Extensions.VectorData.ProviderServices;
using Microsoft.Extensions.VectorData.ProviderServices.Filter;

namespace DeepRetrieval.VectorData.Filtering;

/// <summary>
/// Translates the abstraction's filter expressions (<c>r =&gt; r.Category == "shoes" &amp;&amp; r.Price &lt; 100</c>, and the
/// dictionary form <c>r =&gt; (int)r["Price"] &lt; 100</c> of dynamic collections) into a <see cref="FilterNode"/>.
/// </summary>
/// <remarks>
/// <para>Understood: <c>==</c>, <c>!=</c>, <c>&lt;</c>, <c>&lt;=</c>, <c>&gt;</c>, <c>&gt;=</c> between a property and a constant (either
/// side; captured variables, fields, <c>new DateTime(…)</c> and any other sub-expression that does not read the record, such as
/// <c>start.AddDays(1)</c>, are evaluated once), a bool property alone, <c>&amp;&amp;</c>,
/// <c>||</c>, <c>!</c>, <c>true</c>/<c>false</c>, <c>tags.Contains(x)</c> on array and list properties, <c>values.Contains(r.P)</c>
/// over a constant array or list, and <c>r.Tags.Any(t =&gt; values.Contains(t))</c>.</para>
/// <para>Anything else (method calls such as <c>StartsWith</c>, arithmetic on properties, comparing two properties) throws
/// <see cref="NotSupportedException"/> naming the expression; a property the collection does not have throws
/// <see cref="InvalidOperationException"/>, as every connector does.</para>
/// </remarks>
public sealed class FilterTranslator : FilterTranslatorBase
{
    /// <summary>Translates a filter lambda.</summary>
    /// <param name="filter">The application's filter.</param>
    /// <param name="model">The collection model its properties bind to.</param>
    public FilterNode Translate(LambdaExpression filter, CollectionModel model)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(model);
        Expression body = PreprocessFilter(filter, model, new FilterPreprocessingOptions { SupportsParameterization = false });
        return Translate(body);
    }

    private FilterNode Translate(Expression node) => node switch
    {
        BinaryExpression { NodeType: ExpressionType.AndAlso } and => new AndFilter(Translate(and.Left), Translate(and.Right)),
        BinaryExpression { NodeType: ExpressionType.OrElse } or => new OrFilter(Translate(or.Left), Translate(or.Right)),
        UnaryExpression { NodeType: ExpressionType.Not } not => new NotFilter(Translate(not.Operand)),
        BinaryExpression binary when ToOperator(binary.NodeType) is { } op => Comparison(binary, op),
        ConstantExpression { Value: bool value } => new ConstantFilter(value),
        MethodCallExpression call => Call(call),
        _ when node.Type == typeof(bool) && TryBindProperty(node, out PropertyModel? property) => BoolProperty(property),
        _ => throw Unsupported(node),
    };

    /// <summary>
    /// Binds a property, first looking through the implicit numeric conversions C# inserts (<c>r.Byte == 8</c> compares as
    /// int, <c>r.Int &gt; 8.5</c> as double): values compare by value across numeric kinds here, so they change nothing.
    /// Other casts are left to the abstraction, which rejects casting a property to another type.
    /// </summary>
    protected override bool TryBindProperty(Expression expression, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PropertyModel? propertyModel)
    {
        while (expression is UnaryExpression { NodeType: ExpressionType.Convert } convert && IsImplicitNumeric(convert.Operand.Type, convert.Type))
            expression = convert.Operand;
        return base.TryBindProperty(expression, out propertyModel);
    }

    private static bool IsImplicitNumeric(Type from, Type to)
    {
        from = Nullable.GetUnderlyingType(from) ?? from;
        to = Nullable.GetUnderlyingType(to) ?? to;
        if (from == to) return true;
        Type[] wider = Type.GetTypeCode(from) switch
        {
            TypeCode.Byte => [typeof(short), typeof(int), typeof(long), typeof(float), typeof(double), typeof(decimal)],
            TypeCode.Int16 => [typeof(int), typeof(long), typeof(float), typeof(double), typeof(decimal)],
            TypeCode.Int32 => [typeof(long), typeof(float), typeof(double), typeof(decimal)],
            TypeCode.Int64 or TypeCode.UInt64 => [typeof(float), typeof(double), typeof(decimal)],
            TypeCode.Single => [typeof(double)],
            _ => [],
        };
        return Array.IndexOf(wider, to) >= 0;
    }

    private static ComparisonOperator? ToOperator(ExpressionType type) => type switch
    {
        ExpressionType.Equal => ComparisonOperator.Equal,
        ExpressionType.NotEqual => ComparisonOperator.NotEqual,
        ExpressionType.LessThan => ComparisonOperator.LessThan,
        ExpressionType.LessThanOrEqual => ComparisonOperator.LessThanOrEqual,
        ExpressionType.GreaterThan => ComparisonOperator.GreaterThan,
        ExpressionType.GreaterThanOrEqual => ComparisonOperator.GreaterThanOrEqual,
        _ => null,
    };

    private static FilterNode BoolProperty(PropertyModel property)
    {
        if (property is VectorPropertyModel) throw new NotSupportedException($"Filters cannot test the vector property '{property.ModelName}'.");
        return new ComparisonFilter(property.StorageName, ComparisonOperator.Equal, true);
    }

    private FilterNode Comparison(BinaryExpression binary, ComparisonOperator op)
    {
        if (TryBindProperty(binary.Left, out PropertyModel? left) && TryConstant(binary.Right, out object? right))
            return new ComparisonFilter(Column(left), op, right);
        if (TryBindProperty(binary.Right, out PropertyModel? rightProperty) && TryConstant(binary.Left, out object? leftValue))
            return new ComparisonFilter(Column(rightProperty), Mirror(op), leftValue);
        if (TryConstant(binary.Left, out _) && TryConstant(binary.Right, out _))
        {
            object? result = Expression.Lambda(binary).Compile(preferInterpretation: true).DynamicInvoke();
            return new ConstantFilter(result is true);
        }
        throw Unsupported(binary, "comparisons must be between a property and a constant or captured value");
    }

    private static ComparisonOperator Mirror(ComparisonOperator op) => op switch
    {
        ComparisonOperator.LessThan => ComparisonOperator.GreaterThan,
        ComparisonOperator.LessThanOrEqual => ComparisonOperator.GreaterThanOrEqual,
        ComparisonOperator.GreaterThan => ComparisonOperator.LessThan,
        ComparisonOperator.GreaterThanOrEqual => ComparisonOperator.LessThanOrEqual,
        _ => op,
    };

    private FilterNode Call(MethodCallExpression call)
    {
        if (TryMatchContains(call, out Expression? source, out Expression? item))
        {
            // r.Tags.Contains("x"): a collection property holds a constant.
            if (TryBindProperty(source, out PropertyModel? collection) && TryConstant(item, out object? element))
                return new ContainsFilter(Column(collection), element);
            // new[] { 8, 10 }.Contains(r.Int): a property is one of constant values.
            if (TryConstantList(source, out List<object?>? values) && TryBindProperty(item, out PropertyModel? property))
                return new InFilter(Column(property), values);
            throw Unsupported(call, "Contains must test a property against constants");
        }
        // r.Tags.Any(t => values.Contains(t))
        if (call is { Method.Name: nameof(Enumerable.Any), Arguments: [var anySource, LambdaExpression { Parameters: [var element2] } lambda] }
            && call.Method.DeclaringType == typeof(Enumerable)
            && TryBindProperty(anySource, out PropertyModel? tags)
            && lambda.Body is MethodCallExpression inner
            && TryMatchContains(inner, out Expression? innerSource, out Expression? innerItem)
            && Unwrap(innerItem) == element2
            && TryConstantList(innerSource, out List<object?>? wanted))
        {
            return new AnyInFilter(Column(tags), wanted);
        }
        throw Unsupported(call);
    }

    private static string Column(PropertyModel property)
    {
        if (property is VectorPropertyModel)
            throw new NotSupportedException($"Filters cannot test the vector property '{property.ModelName}'; filter on the key or data properties.");
        return property.StorageName;
    }

    private static Expression Unwrap(Expression expression)
    {
        while (expression is UnaryExpression { NodeType: ExpressionType.Convert or ExpressionType.ConvertChecked } convert) expression = convert.Operand;
        return expression;
    }

    // A constant, or any sub-expression that does not read the record (Day.AddDays(1), a method of a captured object):
    // evaluated once here, never per record.
    private static bool TryConstant(Expression expression, out object? value)
    {
        expression = Unwrap(expression);
        if (expression is ConstantExpression constant)
        {
            value = constant.Value;
            return true;
        }
        value = null;
        if (ParameterFinder.Uses(expression)) return false;
        value = Expression.Lambda(Expression.Convert(expression, typeof(object))).Compile(preferInterpretation: true).DynamicInvoke();
        return true;
    }

    private sealed class ParameterFinder : ExpressionVisitor
    {
        private bool _found;

        public static bool Uses(Expression expression)
        {
            var finder = new ParameterFinder();
            finder.Visit(expression);
            return finder._found;
        }

        public override Expression? Visit(Expression? node)
        {
            if (_found || node is null) return node;
            if (node is ParameterExpression || node.NodeType == ExpressionType.Extension)
            {
                _found = true;
                return node;
            }
            return base.Visit(node);
        }
    }

    private static bool TryConstantList(Expression expression, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out List<object?>? values)
    {
        expression = Unwrap(expression);
        values = null;
        switch (expression)
        {
            case ConstantExpression { Value: IEnumerable enumerable and not string }:
                values = enumerable.Cast<object?>().ToList();
                return true;
            case NewArrayExpression { NodeType: ExpressionType.NewArrayInit } array:
                values = new List<object?>(array.Expressions.Count);
                foreach (Expression element in array.Expressions)
                {
                    if (!TryConstant(element, out object? value)) throw Unsupported(element, "inline array elements must be constants");
                    values.Add(value);
                }
                return true;
            default:
                return false;
        }
    }

    private static NotSupportedException Unsupported(Expression node, string? why = null) =>
        new($"The DeepRetrieval vector store cannot evaluate the filter expression '{node}'{(why is null ? "" : $": {why}")}. " +
            "Supported: ==, !=, <, <=, >, >= between a property and a constant, bool properties, &&, ||, !, " +
            "tags.Contains(x), values.Contains(r.Property) and r.Tags.Any(t => values.Contains(t)).");
}
