using System.Runtime.ExceptionServices;

namespace DeepRetrieval.Torch.Data;

/// <summary>
/// Prepares the samples of a fixed list of batches on worker threads and hands each batch to one consumer in order. Workers
/// claim samples strictly in list order, so the batch the consumer waits for is always being worked on, and never start a
/// sample of a batch more than <c>aheadBatches</c> past the last one taken: at most that many batches are prepared or in
/// preparation while the consumer uses its current one, however slow it is. A failure of <c>prepare</c> stops the workers and
/// is rethrown to the consumer. Disposing stops and joins the workers and discards every prepared item not taken.
/// </summary>
internal sealed class BatchPrefetcher<TItem> : IDisposable where TItem : class
{
    private readonly IReadOnlyList<long[]> _batches;
    private readonly Func<long, long, TItem> _prepare;
    private readonly Action<TItem> _discard;
    private readonly int _ahead;
    private readonly object _gate = new();
    private readonly TItem[]?[] _results;
    private readonly int[] _remaining;
    private readonly Thread[] _workers;
    private readonly CancellationTokenRegistration _cancellation;
    private readonly CancellationToken _token;
    private int _claimBatch;
    private int _claimSlot;
    private long _claimPosition;
    private int _taken;
    private bool _stopped;
    private ExceptionDispatchInfo? _failure;

    /// <summary>Starts the workers.</summary>
    /// <param name="batches">Sample indices per batch.</param>
    /// <param name="threads">Worker threads (at most one per sample).</param>
    /// <param name="aheadBatches">Batches that may be prepared beyond the last one taken; at least 1.</param>
    /// <param name="prepare">Prepares (index, position in the list) on a worker thread.</param>
    /// <param name="discard">Releases an item that will never be taken.</param>
    /// <param name="cancellationToken">Stops the workers and makes <see cref="Take"/> throw.</param>
    public BatchPrefetcher(IReadOnlyList<long[]> batches, int threads, int aheadBatches, Func<long, long, TItem> prepare, Action<TItem> discard,
        CancellationToken cancellationToken)
    {
        _batches = batches;
        _prepare = prepare;
        _discard = discard;
        _ahead = aheadBatches;
        _results = new TItem[batches.Count][];
        _remaining = batches.Select(b => b.Length).ToArray();
        _token = cancellationToken;
        long samples = _remaining.Sum(n => (long)n);
        _workers = new Thread[(int)Math.Min(threads, Math.Max(samples, 1))];
        _cancellation = cancellationToken.Register(Stop);
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(Work) { IsBackground = true, Name = $"DeepRetrieval image worker {i}" };
            _workers[i].Start();
        }
    }

    /// <summary>Waits for batch <paramref name="batch"/> (batches are taken in order, each once) and returns its items by slot.</summary>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public TItem[] Take(int batch)
    {
        lock (_gate)
        {
            while (_remaining[batch] > 0 && _failure is null && !_token.IsCancellationRequested)
                Monitor.Wait(_gate);
            _failure?.Throw();
            _token.ThrowIfCancellationRequested();
            TItem[] items = _results[batch] ?? [];
            _results[batch] = null;
            _taken = batch + 1;
            Monitor.PulseAll(_gate);
            return items;
        }
    }

    public void Dispose()
    {
        Stop();
        foreach (Thread worker in _workers)
            worker.Join();
        _cancellation.Dispose();
        foreach (TItem[]? slots in _results)
        {
            if (slots is null) continue;
            foreach (TItem? item in slots)
                if (item is not null) _discard(item);
        }
    }

    private void Stop()
    {
        lock (_gate)
        {
            _stopped = true;
            Monitor.PulseAll(_gate);
        }
    }

    private void Work()
    {
        while (true)
        {
            int batch, slot;
            long position;
            lock (_gate)
            {
                while (true)
                {
                    if (_stopped) return;
                    while (_claimBatch < _batches.Count && _claimSlot >= _batches[_claimBatch].Length)
                    {
                        _claimBatch++;
                        _claimSlot = 0;
                    }
                    if (_claimBatch >= _batches.Count) return;
                    if (_claimBatch < _taken + _ahead) break;
                    Monitor.Wait(_gate);
                }
                batch = _claimBatch;
                slot = _claimSlot++;
                position = _claimPosition++;
                _results[batch] ??= new TItem[_batches[batch].Length];
            }

            TItem item;
            try
            {
                item = _prepare(_batches[batch][slot], position);
            }
            catch (Exception error)
            {
                lock (_gate)
                {
                    _failure ??= ExceptionDispatchInfo.Capture(error);
                    _stopped = true;
                    Monitor.PulseAll(_gate);
                }
                return;
            }

            lock (_gate)
            {
                _results[batch]![slot] = item;
                if (--_remaining[batch] == 0) Monitor.PulseAll(_gate);
            }
        }
    }
}
