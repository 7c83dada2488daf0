using Microsoft.Extensions.Logging;

namespace DeepRetrieval.Indexes;

/// <summary>
/// How a long <see cref="IVectorIndex.Train"/> or <see cref="IVectorIndex.Add(ReadOnlySpan{float}, ReadOnlySpan{long}, IndexBuildOptions?)"/>
/// reports progress, is cancelled and warns: one small object instead of many overloads.
/// </summary>
/// <remarks>
/// <para>Cancellation: training checks the token between k-means iterations and between parts, and a cancelled
/// training leaves the index untrained as it was (or trained as it was). An add with a cancellable token or a progress
/// sink inserts the batch in chunks and checks the token between them: a cancelled add keeps the rows of the chunks it
/// finished (a prefix of the batch, in order, with their ids and the next automatic id accounted for) and adds none of
/// the rest, then throws <see cref="OperationCanceledException"/>. Bad input (a duplicate id anywhere in the batch, a
/// NaN) is still found before the first row is added.</para>
/// <para>Warnings go to <see cref="Logger"/> where Faiss prints them: k-means (IVF lists, PQ codebooks) trained on fewer
/// than 39 points per centroid, training data sampled down, <c>Train</c> on an index that is already trained.</para>
/// </remarks>
public sealed class IndexBuildOptions
{
    /// <summary>No progress, no cancellation, no logging.</summary>
    public static IndexBuildOptions Default { get; } = new();

    /// <summary>Told after every k-means iteration, training part or added chunk; null for none.</summary>
    public IProgress<IndexProgress>? Progress { get; init; }

    /// <summary>Cancels the work between iterations or chunks (see the remarks for what a cancelled add keeps).</summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>Receives warnings and information about training; null for none.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>Rows an add inserts between cancellation checks and progress reports; 0 (the default) lets the index choose.</summary>
    public int ChunkRows
    {
        get => _chunkRows;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value, nameof(ChunkRows));
            _chunkRows = value;
        }
    }

    private readonly int _chunkRows;

    /// <summary>True when the add must run in chunks: the token can be cancelled or progress is wanted.</summary>
    internal bool ChunksAdds => Progress is not null || CancellationToken.CanBeCanceled;
}
