using DeepRetrieval.Orleans.Placement;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DeepRetrieval.Orleans.Grains;

/// <summary>
/// A read replica of a shard (see <see cref="IVectorReplicaGrain"/>). It applies entries in log order only: a push that
/// arrives out of order, a poll, or a read asking for a newer position makes it read the missing entries from storage; when
/// a checkpoint has already deleted them, it reloads from the newer snapshot.
/// </summary>
[ReplicaSpreadPlacement]
public sealed class VectorReplicaGrain : ShardGrainBase, IVectorReplicaGrain
{
    // Serialises applying entries and reloading (pushes, polls and catching-up reads interleave).
    private readonly SemaphoreSlim _apply = new(1, 1);

    /// <summary>Creates the grain (Orleans activates it).</summary>
    /// <param name="options">Silo settings.</param>
    /// <param name="logger">Logger.</param>
    public VectorReplicaGrain(IOptions<DeepRetrievalShardOptions> options, ILogger<VectorReplicaGrain> logger)
        : base(options, logger)
    {
    }

    private protected override bool IsPrimary => false;

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await base.OnActivateAsync(cancellationToken).ConfigureAwait(true);
        this.RegisterGrainTimer(PollAsync, new GrainTimerCreationOptions(Options.ReplicaPollInterval, Options.ReplicaPollInterval) { Interleave = true });
    }

    /// <inheritdoc />
    public async Task ReplicateAsync(long sequence, byte[] entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await _apply.WaitAsync().ConfigureAwait(true);
        try
        {
            if (Missing || sequence <= Applied) return;
            if (sequence > Applied + 1) await CatchUpCoreAsync().ConfigureAwait(true);
            if (Table is { } table && sequence == Applied + 1)
            {
                Range = ApplyEntry(table, entry, sequence, Range);
                Applied = sequence;
                table.PromoteDueIndexes();
            }
        }
        finally
        {
            _apply.Release();
        }
    }

    /// <inheritdoc />
    public async Task<long> CatchUpAsync()
    {
        await _apply.WaitAsync().ConfigureAwait(true);
        try
        {
            await CatchUpCoreAsync().ConfigureAwait(true);
            return Applied;
        }
        finally
        {
            _apply.Release();
        }
    }

    /// <inheritdoc />
    public Task DropAsync()
    {
        Missing = true;
        Table = null;
        Manifest = null;
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    private protected override async Task EnsureAppliedAsync(long minSequence)
    {
        if (!Missing && minSequence <= Applied) return;
        await _apply.WaitAsync().ConfigureAwait(true);
        try
        {
            await CatchUpCoreAsync().ConfigureAwait(true);
        }
        finally
        {
            _apply.Release();
        }
        if (!Missing && minSequence > Applied)
            throw new ReplicaBehindException($"Replica {GrainKey} has applied log entry {Applied}; the read needs entry {minSequence}.");
    }

    private async Task PollAsync(CancellationToken cancellationToken)
    {
        if (!await _apply.WaitAsync(0, cancellationToken).ConfigureAwait(true)) return; // busy applying: no need to poll
        try
        {
            await CatchUpCoreAsync().ConfigureAwait(true);
        }
        catch (Exception e)
        {
            Logger.LogWarning(e, "Replica {Key}: catching up from storage failed; the next poll retries.", GrainKey);
        }
        finally
        {
            _apply.Release();
        }
    }

    // Reads and applies log entries after Applied until there are none; reloads from the snapshot when a checkpoint deleted
    // the entries it needs, and from scratch when it has no table (it was missing: the collection may exist now).
    private async Task CatchUpCoreAsync()
    {
        if (Missing || Table is null)
        {
            await LoadAsync().ConfigureAwait(true);
            if (Missing) return;
        }
        while (true)
        {
            if (await Store.ReadEntryAsync(Applied + 1).ConfigureAwait(true) is { } entry)
            {
                Range = ApplyEntry(Table!, entry.Payload, Applied + 1, Range);
                Applied++;
                continue;
            }
            var (manifest, _, exists) = await Store.ReadManifestAsync().ConfigureAwait(true);
            if (!exists || manifest!.Epoch != Manifest?.Epoch)
            {
                Missing = true;
                Table = null;
                Manifest = null;
                return;
            }
            if (manifest.LogStart > Applied + 1)
            {
                Logger.LogInformation("Replica {Key}: the log entries after {Sequence} were checkpointed away; reloading generation {Generation}.",
                    GrainKey, Applied, manifest.Generation);
                await LoadAsync().ConfigureAwait(true);
                continue;
            }
            Table!.PromoteDueIndexes();
            return;
        }
    }
}
