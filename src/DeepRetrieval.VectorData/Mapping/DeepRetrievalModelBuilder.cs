using System.Diagnostics.CodeAnalysis;
using DeepRetrieval.VectorData.Scoring;
using DeepRetrieval.VectorData.Storage;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace DeepRetrieval.VectorData.Mapping;

/// <summary>
/// Builds and validates the abstraction's collection model for this store: keys of <see cref="KeyColumn.SupportedTypesDescription"/>,
/// data properties of <see cref="ColumnType.SupportedTypesDescription"/>, vector properties of <c>ReadOnlyMemory&lt;float&gt;</c>,
/// <c>Embedding&lt;float&gt;</c> or <c>float[]</c> (or any input an embedding generator turns into one), any number of vector
/// properties, and distance functions and index kinds this store can serve.
/// </summary>
public sealed class DeepRetrievalModelBuilder() : CollectionModelBuilder(BuildingOptions)
{
    /// <summary>The vector property types stored natively, for error messages.</summary>
    public const string SupportedVectorTypes = "ReadOnlyMemory<float>, Embedding<float>, float[]";

    private static readonly CollectionModelBuildingOptions BuildingOptions = new()
    {
        RequiresAtLeastOneVector = false,
        SupportsMultipleVectors = true,
    };

    /// <summary>True for the vector property types stored natively (no embedding generation needed).</summary>
    /// <param name="type">A property type.</param>
    public static bool IsNativeVectorType(Type type) =>
        type == typeof(ReadOnlyMemory<float>) || type == typeof(ReadOnlyMemory<float>?) || type == typeof(Embedding<float>) || type == typeof(float[]);

    /// <inheritdoc />
    protected override void ValidateKeyProperty(KeyPropertyModel keyProperty)
    {
        base.ValidateKeyProperty(keyProperty);
        if (!KeyColumn.SupportedTypes.ContainsKey(keyProperty.Type))
            throw new NotSupportedException(
                $"Key property '{keyProperty.ModelName}' has type '{keyProperty.Type.Name}'; the DeepRetrieval vector store supports keys of type {KeyColumn.SupportedTypesDescription}.");
    }

    /// <inheritdoc />
    protected override void ValidateProperty(PropertyModel propertyModel, VectorStoreCollectionDefinition? definition)
    {
        base.ValidateProperty(propertyModel, definition);
        switch (propertyModel)
        {
            case VectorPropertyModel vector:
                ScoreConvention convention = ScoreConvention.For(vector.DistanceFunction);
                IndexPlan.Resolve(vector.IndexKind, vector.Dimensions, convention.Metric);
                break;
            case DataPropertyModel { IsFullTextIndexed: true } data when data.Type != typeof(string):
                throw new NotSupportedException($"Data property '{data.ModelName}' is full-text indexed but has type '{data.Type.Name}'; only string properties can be.");
        }
    }

    /// <inheritdoc />
    protected override bool IsDataPropertyTypeValid(Type type, [NotNullWhen(false)] out string? supportedTypes)
    {
        supportedTypes = ColumnType.SupportedTypesDescription;
        return ColumnType.TryFromClrType(type, out _);
    }

    /// <inheritdoc />
    protected override bool IsVectorPropertyTypeValid(Type type, [NotNullWhen(false)] out string? supportedTypes)
    {
        supportedTypes = SupportedVectorTypes;
        return IsNativeVectorType(type);
    }
}
