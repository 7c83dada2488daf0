using System.Collections;
using DeepRetrieval.VectorData.Storage;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace DeepRetrieval.VectorData.Mapping;

/// <summary>
/// Converts between the application's records (POCOs or <c>Dictionary&lt;string, object?&gt;</c>) and stored rows. Writing
/// copies collections and vectors, so later changes to the application's objects do not reach the store; reading creates a
/// fresh record with fresh collections and vectors every time.
/// </summary>
/// <typeparam name="TRecord">The record type.</typeparam>
public sealed class RecordMapper<TRecord>
    where TRecord : class
{
    private readonly CollectionModel _model;
    private readonly RecordSchema _schema;

    /// <summary>Creates a mapper.</summary>
    /// <param name="model">The collection model.</param>
    /// <param name="schema">Its schema (<see cref="SchemaFactory.FromModel"/>).</param>
    public RecordMapper(CollectionModel model, RecordSchema schema)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(schema);
        _model = model;
        _schema = schema;
    }

    /// <summary>
    /// The row of a record. Vectors come from the record, or from <paramref name="generated"/> for properties whose embeddings
    /// an embedding generator produced; a null or empty vector means the record has none for that property.
    /// </summary>
    /// <param name="record">The record.</param>
    /// <param name="key">Its key, already read (and generated, for auto-generated keys).</param>
    /// <param name="generated">Per vector property, the generated embedding of this record, or null.</param>
    /// <exception cref="ArgumentException">A value does not fit its property.</exception>
    public RecordRow ToRow(TRecord record, object key, ReadOnlyMemory<float>?[]? generated)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(key);
        var values = new object?[_model.DataProperties.Count];
        for (int i = 0; i < values.Length; i++)
        {
            DataPropertyModel property = _model.DataProperties[i];
            values[i] = Normalize(property.GetValueAsObject(record), _schema.Data[i].Type, property.ModelName, key);
        }
        var vectors = new float[]?[_model.VectorProperties.Count];
        for (int i = 0; i < vectors.Length; i++)
        {
            VectorPropertyModel property = _model.VectorProperties[i];
            ReadOnlyMemory<float>? vector = generated?[i] ?? property.GetValueAsObject(record) switch
            {
                null => null,
                ReadOnlyMemory<float> memory => memory,
                float[] array => array,
                Embedding<float> embedding => embedding.Vector,
                var other => throw new ArgumentException(
                    $"Record {key}: vector property '{property.ModelName}' holds a {other.GetType().Name}; expected {DeepRetrievalModelBuilder.SupportedVectorTypes}."),
            };
            vectors[i] = vector is { Length: > 0 } v ? v.ToArray() : null;
        }
        return new RecordRow(key, values, vectors);
    }

    /// <summary>A new record holding a row's values (and vectors, when asked and stored natively).</summary>
    /// <param name="row">The row.</param>
    /// <param name="includeVectors">Fill the vector properties.</param>
    public TRecord ToRecord(RecordRow row, bool includeVectors)
    {
        ArgumentNullException.ThrowIfNull(row);
        TRecord record = _model.CreateRecord<TRecord>();
        _model.KeyProperty.SetValueAsObject(record, row.Key);
        for (int i = 0; i < _model.DataProperties.Count; i++)
        {
            DataPropertyModel property = _model.DataProperties[i];
            property.SetValueAsObject(record, Denormalize(row.Values[i], _schema.Data[i].Type));
        }
        if (!includeVectors) return record;
        for (int i = 0; i < _model.VectorProperties.Count; i++)
        {
            VectorPropertyModel property = _model.VectorProperties[i];
            if (row.Vectors[i] is not { } stored || !DeepRetrievalModelBuilder.IsNativeVectorType(property.Type)) continue;
            float[] copy = (float[])stored.Clone();
            object value = property.Type == typeof(float[]) ? copy
                : property.Type == typeof(Embedding<float>) ? new Embedding<float>(copy)
                : new ReadOnlyMemory<float>(copy);
            property.SetValueAsObject(record, value);
        }
        return record;
    }

    private static object? Normalize(object? value, ColumnType type, string property, object key)
    {
        if (value is null) return null;
        if (type.Collection == CollectionKind.None)
        {
            if (value.GetType() != type.ElementClrType)
                throw new ArgumentException($"Record {key}: property '{property}' holds a {value.GetType().Name}; it stores {type}.");
            return value;
        }
        if (value is not IList list || value.GetType() != type.ClrType)
            throw new ArgumentException($"Record {key}: property '{property}' holds a {value.GetType().Name}; it stores {type}.");
        Array copy = Array.CreateInstance(type.ElementClrType, list.Count);
        for (int i = 0; i < list.Count; i++)
        {
            object? element = list[i];
            if (element is null && type.Scalar != ScalarKind.String)
                throw new ArgumentException($"Record {key}: property '{property}' has a null element.");
            copy.SetValue(element, i);
        }
        return copy;
    }

    private static object? Denormalize(object? value, ColumnType type)
    {
        if (value is not Array stored) return value;
        if (type.Collection == CollectionKind.Array) return stored.Clone();
        var list = (IList)Activator.CreateInstance(type.ClrType, stored.Length)!;
        foreach (object? element in stored) list.Add(element);
        return list;
    }
}
