using System.Globalization;
using System.Text.Json;

namespace DeepRetrieval.Torch.Models;

/// <summary>
/// The JSON form of <see cref="RetrievalModelConfig"/> stored in a saved model's metadata (snake_case keys). Version 2 stores the
/// pooling and head specifications and the metric; version 1 stored GeM's exponent and learnability apart and a
/// <c>normalize</c> flag, which <see cref="Read"/> turns into a <c>gem(p=…, learnable=…)</c> specification and the cosine
/// (normalised) or L2 metric.
/// </summary>
internal static class RetrievalModelConfigJson
{
    // Bounds on what a file may declare, checked before anything is built: a saved model is hostile input. Each is far above
    // any real model (4 channels, 4096-wide embeddings, 1024-pixel inputs) and far below sizes that exhaust memory.
    public const int MaxNameLength = 256;
    public const int MaxInputChannels = 256;
    public const int MaxEmbeddingDimension = 1 << 16;
    public const int MaxInputSize = 1 << 14;

    public static string Write(RetrievalModelConfig config)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("backbone", config.BackboneName);
            json.WriteNumber("input_channels", config.InputChannels);
            json.WriteString("pooling", config.Pooling);
            json.WriteNumber("embedding_dimension", config.EmbeddingDimension);
            json.WriteString("head", config.Head);
            json.WriteString("metric", MetricName(config.Metric));
            json.WriteNumber("input_size", config.InputSize);
            json.WriteStartArray("mean");
            foreach (float m in config.Mean) json.WriteNumberValue(m);
            json.WriteEndArray();
            json.WriteStartArray("std");
            foreach (float s in config.Std) json.WriteNumberValue(s);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <param name="text">The JSON text.</param>
    /// <param name="version">The file's format version (1 or 2).</param>
    /// <exception cref="JsonException">The text is not JSON, or a field is missing or has the wrong type.</exception>
    public static RetrievalModelConfig Read(string text, int version)
    {
        using var document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 4 });
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw new JsonException("the config is not a JSON object");
        JsonElement Field(string name, JsonValueKind kind)
        {
            if (!root.TryGetProperty(name, out var value))
                throw new JsonException($"the config has no '{name}'");
            bool ok = kind == JsonValueKind.True ? value.ValueKind is JsonValueKind.True or JsonValueKind.False : value.ValueKind == kind;
            return ok ? value : throw new JsonException($"config field '{name}' is {value.ValueKind}, expected {(kind == JsonValueKind.True ? "a boolean" : kind.ToString())}");
        }
        string String(string name)
        {
            string value = Field(name, JsonValueKind.String).GetString()!;
            return value.Length <= MaxNameLength ? value : throw new JsonException($"config field '{name}' is {value.Length} characters long; at most {MaxNameLength} are allowed");
        }
        int Int(string name, int max)
        {
            if (!Field(name, JsonValueKind.Number).TryGetInt32(out int v))
                throw new JsonException($"config field '{name}' is not a 32-bit integer");
            return v is >= 1 && v <= max ? v : throw new JsonException($"config field '{name}' is {v}; it must be between 1 and {max}");
        }
        float[] Floats(string name)
        {
            var array = Field(name, JsonValueKind.Array);
            if (array.GetArrayLength() > MaxInputChannels)
                throw new JsonException($"config field '{name}' holds {array.GetArrayLength()} values; a model takes at most {MaxInputChannels} channels");
            return array.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number ? e.GetSingle() : throw new JsonException($"config field '{name}' holds a non-number")).ToArray();
        }

        string pooling = String("pooling");
        Metric metric;
        if (version == 1)
        {
            if (pooling == "gem")
            {
                double p = Field("gem_p", JsonValueKind.Number).GetDouble();
                if (!(p > 0) || !(p <= Pooling.GeM.MaxExponent))
                    throw new JsonException($"config field 'gem_p' is {p:R}; the GeM exponent must be in (0, {Pooling.GeM.MaxExponent}]");
                bool learnable = Field("gem_learnable", JsonValueKind.True).GetBoolean();
                pooling = string.Create(CultureInfo.InvariantCulture, $"gem(p={p:R}, learnable={(learnable ? "true" : "false")})");
            }
            metric = Field("normalize", JsonValueKind.True).GetBoolean() ? Metric.Cosine : Metric.L2;
        }
        else
        {
            metric = ParseMetric(String("metric"));
        }
        return new RetrievalModelConfig(String("backbone"), Int("input_channels", MaxInputChannels), pooling,
            Int("embedding_dimension", MaxEmbeddingDimension), String("head"), metric, Int("input_size", MaxInputSize), Floats("mean"), Floats("std"));
    }

    private static string MetricName(Metric metric) => metric switch
    {
        Metric.Cosine => "cosine",
        Metric.InnerProduct => "inner_product",
        Metric.L2 => "l2",
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown metric."),
    };

    private static Metric ParseMetric(string name) => name switch
    {
        "cosine" => Metric.Cosine,
        "inner_product" => Metric.InnerProduct,
        "l2" => Metric.L2,
        _ => throw new JsonException($"config field 'metric' is '{name}'; expected cosine, inner_product or l2"),
    };
}
