namespace DeepRetrieval.Orleans.Storage;

/// <summary>One stored blob: a log entry, or a chunk of a snapshot.</summary>
[GenerateSerializer]
public sealed class StoredBytes
{
    /// <summary>The bytes.</summary>
    [Id(0)]
    public byte[] Data { get; set; } = [];
}
