namespace DeepRetrieval.Torch.Extraction;

// Unlike Progress<T>, runs the handler immediately on the reporting thread, so counts are exact when the report returns.
internal sealed class SynchronousProgress<T>(Action<T> handler) : IProgress<T>
{
    public void Report(T value) => handler(value);
}
