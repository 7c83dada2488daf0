using System.Text.Json;

namespace DeepRetrieval.Torch.Models;

/// <summary>The JSON form of <see cref="RetrievalModelConfig"/> stored in a saved model's metadata (snake_case keys).</summary>
internal static class RetrievalModelConfigJson
{
    public static string Write(RetrievalModelConfig config)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("backbone", config.BackboneName);
            json.WriteNumber("input_channels", config.InputChannels);
            json.WriteString("pooling", config.Pooling);
            json.WriteNumber("gem_p", config.GemP);
            json.WriteBoolean("gem_learnable", config.GemLearnable);
            json.WriteNumber("embedding_dimension", config.EmbeddingDimension);
            json.WriteString("head", config.Head);
            json.WriteBoolean("normalize", config.Normalize);
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

    /// <exception cref="JsonException">The text is not JSON, or a field is missing or has the wrong type.</exception>
    public static RetrievalModelConfig Read(string text)
    {
        using var document = JsonDocument.Parse(text);
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
        int Int(string name) => Field(name, JsonValueKind.Number).TryGetInt32(out int v) ? v : throw new JsonException($"config field '{name}' is not a 32-bit integer");
        float[] Floats(string name) => Field(name, JsonValueKind.Array).EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number ? e.GetSingle() : throw new JsonException($"config field '{name}' holds a non-number")).ToArray();
        return new RetrievalModelConfig(
            Field("backbone", JsonValueKind.String).GetString()!,
            Int("input_channels"),
            Field("pooling", JsonValueKind.String).GetString()!,
            Field("gem_p", JsonValueKind.Number).GetDouble(),
            Field("gem_learnable", JsonValueKind.True).GetBoolean(),
            Int("embedding_dimension"),
            Field("head", JsonValueKind.String).GetString()!,
            Field("normalize", JsonValueKind.True).GetBoolean(),
            Int("input_size"),
            Floats("mean"),
            Floats("std"));
    }
}
