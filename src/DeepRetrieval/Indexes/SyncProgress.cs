namespace DeepRetrieval.Indexes;

/// <summary>
/// An <see cref="IProgress{T}"/> that calls its handler on the reporting thread, at once: unlike <see cref="Progress{T}"/>
/// it posts nothing to a synchronisation context, so a nested step's report reaches the caller's sink in order.
/// </summary>
internal sealed class SyncProgress<T>(Action<T> handler) : IProgress<T>
{
    public void Report(T value) => handler(value);
}
