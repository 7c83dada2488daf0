namespace DeepRetrieval.VectorData;

/// <summary>How far a write is pushed before an upsert or delete is acknowledged.</summary>
public enum DurabilityMode
{
    /// <summary>
    /// Each write's log entry is flushed to the disk (<c>fsync</c>) before the call returns: acknowledged records survive a
    /// process crash and a power loss. The default.
    /// </summary>
    FlushToDisk = 0,

    /// <summary>
    /// Each write's log entry is handed to the operating system before the call returns: acknowledged records survive a process
    /// crash (the kernel still writes them) but not a power loss or kernel crash. Much faster for many small writes.
    /// </summary>
    FlushToOperatingSystem = 1,
}
